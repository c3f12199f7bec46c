"""The one string catalog and translator of the app, the reports and the command line.

One YAML file per language in ``report/locales/``: the app's strings at the
root, the HTML/PDF report's under ``doc.``, the engine's notices under
``engine.``. Nested keys are flattened with dots (``config.verdict.fits``).
Pure Python (no Streamlit).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from catalog.loader import load_cached, parse_yaml
from report.formats import money_text, number_text

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def read_strings(path: Path) -> dict[str, str]:
    """A YAML string file (nested mappings) flattened to dotted keys."""
    with path.open(encoding="utf-8") as handle:
        return _flatten(parse_yaml(handle.read()) or {})


def _read_locales(directory: Path) -> dict[str, dict[str, str]]:
    return {lang: read_strings(directory / f"{lang}.yaml") for lang in LANGUAGES}


@functools.cache
def _every_language() -> dict[str, dict[str, str]]:
    """Every language's strings, read from the YAML files once per change of them and
    otherwise from the JSON kept beside the catalog's (:func:`catalog.loader.load_cached`)."""
    return load_cached(LOCALES_DIR, _read_locales, dict[str, dict[str, str]], name="strings",
                       code=(Path(__file__),))


def strings(lang: str) -> dict[str, str]:
    """Every string of one language, keyed by dotted name."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return _every_language()[lang]


def group_strings(prefix: str, lang: str) -> dict[str, str]:
    """Every string under ``prefix`` (e.g. ``"plan_chart."``), keyed without it."""
    table, english = strings(lang), strings(DEFAULT_LANGUAGE)
    return {key.removeprefix(prefix): table.get(key) or text
            for key, text in english.items() if key.startswith(prefix)}


def placeholders(text: str) -> set[str]:
    """Names of the ``{name}`` fields a string expects."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


class _CountFormatter(string.Formatter):
    """``str.format`` plus one spec for words that follow a number.

    ``{users:count:user:users}`` writes "1 user" or "5 users" (the number with
    thousands separators), so English needs no "user(s)"; languages without a
    plural write the number and the word as usual.
    """

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec.startswith("count:"):
            return super().format_field(value, format_spec)
        _, one, other = format_spec.split(":")
        try:
            number = float(str(value).replace(",", ""))
        except ValueError:  # not a number (a dash for a missing value): the plural
            return f"{value} {other}"
        text = f"{int(number):,}" if number.is_integer() else f"{number:,g}"
        return f"{text} {one if number == 1 else other}"


_FORMATTER = _CountFormatter()


def fill(text: str, /, **values: object) -> str:
    """``text`` with its ``{name}`` fields filled (see :class:`_CountFormatter`)."""
    if ":count:" not in text:  # no count spec: str.format's own parser, several times faster
        return text.format(**values)
    return _FORMATTER.format(text, **values)


def translate(key: str, lang: str, /, **values: object) -> str:
    """The string ``key`` in ``lang`` (English, then the key itself, as fallbacks)."""
    text = strings(lang).get(key) or strings(DEFAULT_LANGUAGE).get(key) or key
    return fill(text, **values) if values else text


GLOSSARY = LOCALES_DIR / "glossary.yaml"


@functools.cache
def glossary() -> dict[str, dict[str, Any]]:
    """The chosen Chinese word for each English term, and the variants to avoid."""
    return parse_yaml(GLOSSARY.read_text(encoding="utf-8"))["terms"]


NAME_PREFIX = "names."


def catalog_name(kind: str, record_id: str, name: str, lang: str) -> str:
    """A catalog record's name in ``lang``.

    The catalog's own ``name`` is English; a name that holds words rather than
    only a product or format name has a translation under ``names.<kind>.<id>``
    (``kind``: quant, cooler, storage, interconnect) in the other languages.
    """
    if lang == DEFAULT_LANGUAGE:
        return name
    return strings(lang).get(f"{NAME_PREFIX}{kind}.{record_id}", name)


ENGINE_PREFIX = "engine."
TERM_PREFIX = "engine.term."
TERM_SUFFIX = "_term"


def _notice_parts(notice: Any) -> tuple[str, Mapping[str, object], str]:
    """(code, params, English text) of a Notice, its JSON dict, or plain text."""
    if isinstance(notice, Mapping):
        return (str(notice.get("code", "text")), notice.get("params") or {},
                str(notice.get("text", "")))
    code = getattr(notice, "code", "text")
    params = getattr(notice, "params", None) or {}
    text = getattr(notice, "text", None)
    return str(code), params, str(notice) if text is None else str(text)


def translate_notice(notice: Any, lang: str, *,
                     money: tuple[float, str] | None = None) -> str:
    """An engine sentence (a :class:`sizing.notices.Notice`) in ``lang``.

    English shows the engine's own text. Other languages use ``engine.<code>``
    formatted with the notice's parameters; a parameter named ``*_term`` is
    itself looked up under ``engine.term.<value>``. Anything missing (no key,
    a parameter the template needs but the notice lacks) falls back to the
    English text, so an untranslated sentence is shown rather than lost.
    ``money`` (units per US dollar, currency code) restates the sentence's
    dollar amounts (parameters ``*_usd`` and ``usd_*``) in that currency, in
    English too, and its amounts per 1,000 dollars (``*_per_kusd``) per 1,000
    of that currency.
    """
    code, params, text = _notice_parts(notice)
    converting = money is not None and money[1] != "USD"
    dollars = [name for name in params if converting and (name.endswith("_usd")
                                                          or name.startswith("usd_"))]
    per_thousand = [name for name in params if converting and name.endswith(PER_KUSD_SUFFIX)]
    if lang == DEFAULT_LANGUAGE and not dollars and not per_thousand:
        return text
    table = strings(lang)
    template = table.get(ENGINE_PREFIX + code)
    if not template:
        return text
    values = {}
    for name, value in params.items():
        if name.endswith(TERM_SUFFIX):
            value = table.get(f"{TERM_PREFIX}{value}", value)
        values[name] = value
    unit = table.get(USD_AFTER_AMOUNT_KEY, "")
    for name in dollars:  # "{budget_usd} USD" becomes "{budget_usd}", filled "¥6,000"
        template = template.replace(f"{{{name}}}{unit}", f"{{{name}}}")
        values[name] = _restated(values[name], *money, lang=lang)
    if per_thousand:  # "per 1,000 USD" becomes "per ¥1,000", each ratio divided by the rate
        template = template.replace(table.get(PER_THOUSAND_USD_KEY, "1,000 USD"),
                                    money_text(1000, money[1], lang=lang))
        for name in per_thousand:
            values[name] = _per_thousand_restated(values[name], money[0])
    try:
        return fill(template, **values)
    except (KeyError, IndexError, ValueError):
        return text


# The unit word after a dollar amount in an engine sentence (" USD", " 美元").
USD_AFTER_AMOUNT_KEY = "money.usd_after_amount"
# "1,000 USD" as an engine sentence writes it, and the suffix of a quantity per 1,000 dollars.
PER_THOUSAND_USD_KEY = "money.per_thousand_usd"
PER_KUSD_SUFFIX = "_per_kusd"


def _per_thousand_restated(value: object, units_per_usd: float) -> object:
    """A quantity per 1,000 dollars ("12.3") per 1,000 of a currency, same decimals."""
    parsed = _amount_and_decimals(value)
    return value if parsed is None else number_text(parsed[0] / units_per_usd, parsed[1])


def _amount_and_decimals(value: object) -> tuple[float, int] | None:
    """A formatted number ("1,234", "+159", "2.06") and its decimals; None if not a number."""
    text = str(value)
    try:
        amount = float(text.replace(",", "").lstrip("+"))
    except ValueError:
        return None
    return amount, len(text.rsplit(".", 1)[1]) if "." in text else 0


def _restated(value: object, units_per_usd: float, currency: str, *, lang: str) -> object:
    """A formatted dollar amount ("1,234", "+159", "2.06") in ``currency``, same decimals."""
    parsed = _amount_and_decimals(value)
    if parsed is None:
        return value
    sign = "+" if str(value).startswith("+") else ""
    return sign + money_text(parsed[0] * units_per_usd, currency, digits=parsed[1],
                             lang=lang)


def join_notices(notices: Iterable[Any], lang: str, *,
                 money: tuple[float, str] | None = None) -> str:
    """Several engine sentences as one paragraph (no spaces between Chinese sentences)."""
    sep = "" if lang == "zh" else " "
    return sep.join(translate_notice(n, lang, money=money) for n in notices)


class Translator:
    """``tr(key, **values)`` for one language, looking under ``prefix`` first.

    The report uses ``prefix="doc."``: its own strings live there, and the
    strings it shares with the app (chart labels) at the root. A key found in
    neither language is a bug and raises ``KeyError``.
    """

    def __init__(self, lang: str, prefix: str = "") -> None:
        self.lang = lang
        self.prefix = prefix
        self._strings = strings(lang)
        self._english = strings(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: object) -> str:
        for table in (self._strings, self._english):
            text = table.get(self.prefix + key) or table.get(key)
            if text:
                return fill(text, **values) if values else text
        raise KeyError(f"string '{self.prefix}{key}' is missing")


def language_from(query_value: str | None, locale: str | None) -> str:
    """The language to show: ``?lang=`` first, then the browser locale, else English."""
    if query_value in LANGUAGES:
        return query_value
    if locale and locale.lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE


__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "strings", "translate", "language_from", "placeholders",
           "translate_notice", "join_notices", "Translator", "group_strings", "catalog_name",
           "glossary"]
