"""Text on the pages: the session's language, engine sentences and escaping.

Strings come from the one catalog in ``report/locales/`` through
:mod:`report.text`; engine sentences are :class:`sizing.notices.Notice`.
Anything that came from a user, a link or the engine goes through
:func:`plain` before Markdown sees it: it renders as the same characters, never
as formatting, a link or an invisible control character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import streamlit as st

from catalog.errors import UserError
from catalog.printable import printable
from catalog.schema import Gpu, Segment, Vendor
from pages._engine import catalog
from pages._state import ignored_params, lang, reason_values, state, terms_of
from report.text import join_notices, translate, translate_notice
from sizing.notices import Notice

_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-!|~<>$]")
# What GitHub-flavoured Markdown links with no link syntax at all, its "autolink
# literals" (https://github.github.com/gfm/#autolinks-extension-): an address
# starting www. or http(s)://, and an e-mail address. Streamlit's renderer finds
# them in the text after backslash escapes are resolved, so escaping does not
# stop them; a code span does. The address part is ASCII, so Chinese text after
# it stays outside the span.
_AUTOLINK = re.compile(r"(?:https?://|www\.)[-A-Za-z0-9._~/?#%&=+:@!$*,;]*"
                       r"|[-.A-Za-z0-9_+]+@[-A-Za-z0-9_]+(?:\.[-A-Za-z0-9_]+)+", re.IGNORECASE)


def t(key: str, **values: object) -> str:
    """The current language's string ``key``."""
    return translate(key, lang(), **values)


def _money() -> tuple[float, str]:
    """The session's currency, for the dollar amounts in engine sentences."""
    try:
        terms = terms_of(state(), catalog())
    except UserError:  # an override out of range: said where it is typed; dollars here
        return 1.0, "USD"
    return terms.units_per_usd, terms.currency


def engine_text(notice: Notice) -> str:
    """An engine sentence in the current language and currency (not escaped: pass it
    to plain())."""
    return translate_notice(notice, lang(), money=_money())


def engine_paragraph(notices: Iterable[Notice]) -> str:
    """Several engine sentences as one paragraph in the current language and currency."""
    return join_notices(notices, lang(), money=_money())


def labeller(prefix: str) -> Callable[[str], str]:
    """A format_func showing ``prefix + option`` in the current language.

    The language is bound now: Streamlit may call a format_func outside the
    script run, where the session (and so the language) is not visible.
    """
    language = lang()
    return lambda option: translate(f"{prefix}{option}", language)


def plain(text: str) -> str:
    """``text`` as Markdown that renders as exactly its characters.

    Markdown's special characters are escaped, an address Markdown would turn
    into a link is put in a code span, and invisible control characters are
    shown escaped (:func:`catalog.printable.printable`).
    """
    shown = printable(str(text))
    # An autolink holds "@", "://" or "www." (in any case); most text, a page's ~150
    # strings a rerun, holds none and needs no slower search for one.
    if "@" not in shown and "://" not in shown and "www." not in shown.lower():
        return _MARKDOWN_SPECIAL.sub(_escaped, shown)
    parts, start = [], 0
    for found in _AUTOLINK.finditer(shown):
        parts += [_MARKDOWN_SPECIAL.sub(_escaped, shown[start:found.start()]),
                  f"`{found.group()}`"]
        start = found.end()
    parts.append(_MARKDOWN_SPECIAL.sub(_escaped, shown[start:]))
    return "".join(parts)


def _escaped(special: re.Match[str]) -> str:
    """A Markdown special character with the backslash that makes it plain."""
    return "\\" + special.group()


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
        st.warning(plain(t("notice.ignored", name=name, value=value,
                           reason=t(reason, **reason_values(name)))),
                   icon=":material/warning:")


def show_user_error(exc: Exception) -> None:
    """An error the user can fix (a UserError), as one line; dollar amounts in the
    page's currency, as the budget was typed."""
    st.error(plain(t("error.engine", message=translate_notice(exc, lang(), money=_money()))),
             icon=":material/error:")
