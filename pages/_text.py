"""Text on the pages: the session's language, engine sentences and escaping.

Strings come from the one catalog in ``report/locales/`` through
:mod:`report.text`; engine sentences are :class:`sizing.notices.Notice`.
Anything that came from a user, a link or the engine goes through
:func:`plain` before Markdown sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import streamlit as st

from catalog.schema import Gpu, Segment, Vendor
from pages._state import ignored_params, lang
from report.text import join_notices, translate, translate_notice
from sizing.notices import Notice

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~<>$])")


def t(key: str, **values: object) -> str:
    """The current language's string ``key``."""
    return translate(key, lang(), **values)


def engine_text(notice: Notice) -> str:
    """An engine sentence in the current language (not escaped: pass it to plain())."""
    return translate_notice(notice, lang())


def engine_paragraph(notices: Iterable[Notice]) -> str:
    """Several engine sentences as one paragraph in the current language."""
    return join_notices(notices, lang())


def labeller(prefix: str) -> Callable[[str], str]:
    """A format_func showing ``prefix + option`` in the current language.

    The language is bound now: Streamlit may call a format_func outside the
    script run, where the session (and so the language) is not visible.
    """
    language = lang()
    return lambda option: translate(f"{prefix}{option}", language)


def plain(text: str) -> str:
    """Escape Markdown so engine messages and URL values render as text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def group_key(gpu: Gpu) -> str:
    """The key of the GPU's market group: unified-memory machines by vendor."""
    if gpu.segment is Segment.CONSUMER:
        return "group.consumer"
    if gpu.segment is Segment.UNIFIED:
        return "group.apple" if gpu.vendor is Vendor.APPLE else f"group.{gpu.vendor.value}_unified"
    return "group.professional"


def group_of(gpu: Gpu) -> str:
    """The GPU's market group, as the charts and tables name it."""
    return t(group_key(gpu))


def show_notices() -> None:
    """One warning per link parameter the first run ignored."""
    for name, value, reason in ignored_params():
        st.warning(plain(t("notice.ignored", name=name, value=value, reason=t(reason))),
                   icon=":material/warning:")


def show_user_error(exc: Exception) -> None:
    """An error the user can fix (a UserError), as one line."""
    st.error(plain(t("error.engine", message=str(exc))), icon=":material/error:")
