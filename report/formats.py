"""The one place numbers become text: money, memory, speed and plain numbers.

Used by the app pages, the HTML/PDF reports and the command line, so a figure
reads the same everywhere. Missing or non-finite values show as an em dash.
"""

from __future__ import annotations

import datetime as dt
import math

from sizing.units import bytes_to_gib

MISSING = "—"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "JP¥"}
# Currencies whose amounts are shown without minor units.
WHOLE_UNIT_CURRENCIES = frozenset({"JPY"})
# Chinese counts large sums in 万 (ten thousand): ¥42,600 reads as ¥4.26万.
WAN = 10_000


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def number_text(value: float | None, digits: int = 1) -> str:
    """``value`` with thousands separators and ``digits`` decimals: "1,234.5".

    >>> number_text(1234.56), number_text(None), number_text(float("nan"), 0)
    ('1,234.6', '—', '—')
    """
    return MISSING if _missing(value) else f"{value:,.{digits}f}"


def money_text(amount: float | None, currency: str, *, digits: int = 0, lang: str = "en") -> str:
    """``amount`` (already in ``currency``) with its symbol: "$2,582", "€2,376".

    In Chinese, yuan from 10,000 up are counted in 万, to two decimals.

    >>> money_text(2582.4, "USD"), money_text(-3.5, "EUR", digits=2), money_text(1500, "JPY", digits=2)
    ('$2,582', '-€3.50', 'JP¥1,500')
    >>> money_text(12, "CHF"), money_text(42_600, "CNY", lang="zh"), money_text(120_000, "CNY", lang="zh")
    ('12 CHF', '¥4.26万', '¥12万')
    """
    if _missing(amount):
        return MISSING
    code = currency.upper()
    if code in WHOLE_UNIT_CURRENCIES:
        digits = 0
    symbol = CURRENCY_SYMBOLS.get(code)
    text = f"{abs(amount):,.{digits}f}"
    if lang == "zh" and code == "CNY" and abs(amount) >= WAN:
        text = f"{abs(amount) / WAN:,.2f}".rstrip("0").rstrip(".") + "万"
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"


def money_pattern(currency: str, *, digits: int = 0) -> str:
    """A printf pattern that shows an amount in ``currency`` as :func:`money_text` does in
    English, for table columns that format their own cells (Streamlit's number columns
    read ``%,.0f`` as thousands separators).

    >>> money_pattern("USD"), money_pattern("JPY", digits=2), money_pattern("CHF", digits=2)
    ('$%,.0f', 'JP¥%,.0f', '%,.2f CHF')
    """
    code = currency.upper()
    if code in WHOLE_UNIT_CURRENCIES:
        digits = 0
    symbol = CURRENCY_SYMBOLS.get(code)
    number = f"%,.{digits}f"
    return f"{symbol}{number}" if symbol else f"{number} {code}"


def usd_text(amount: float | None) -> str:
    """US dollars, whole: "$1,299"."""
    return money_text(amount, "USD")


def usd_in_currency_text(amount_usd: float | None, currency: str, units_per_usd: float, *,
                         digits: int = 0, lang: str = "en") -> str:
    """Dollars shown in ``currency`` at ``units_per_usd``: "€2,376" for $2,582 at 0.92.

    >>> usd_in_currency_text(2582.4, "EUR", 0.92), usd_in_currency_text(None, "EUR", 0.92)
    ('€2,376', '—')
    """
    return money_text(None if _missing(amount_usd) else amount_usd * units_per_usd, currency,
                      digits=digits, lang=lang)


def usd_with_currency_text(amount_usd: float | None, amount_in_currency: float | None,
                           currency: str) -> str:
    """Dollars, then the user's currency when it is not the dollar: "$1,299 (¥9,353)"."""
    text = usd_text(amount_usd)
    if currency.upper() != "USD" and not _missing(amount_in_currency):
        text += f" ({money_text(amount_in_currency, currency)})"
    return text


def date_text(day: dt.date | None, lang: str = "en") -> str:
    """A calendar date: ISO in English, 年月日 in Chinese.

    >>> date_text(dt.date(2026, 12, 2)), date_text(dt.date(2026, 12, 2), "zh")
    ('2026-12-02', '2026年12月2日')
    """
    if day is None:
        return MISSING
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.isoformat()


def gib_text(n_bytes: float | None, digits: int = 1) -> str:
    """Bytes as binary gigabytes: "13.0 GiB".

    >>> gib_text(2**30 * 13)
    '13.0 GiB'
    """
    return MISSING if _missing(n_bytes) else f"{bytes_to_gib(n_bytes):,.{digits}f} GiB"


# Duration units by language: day, hour, minute, second.
DURATION_UNITS = {"en": (" d", " h", " min", " s"), "zh": ("天", "小时", "分钟", "秒")}


def duration_text(seconds: float | None, lang: str = "en") -> str:
    """A duration in the two largest units: "45 s", "12 min 5 s", "3 h 20 min", "2 d 4 h".

    >>> duration_text(45.2), duration_text(725), duration_text(12_000), duration_text(187_200)
    ('45 s', '12 min 5 s', '3 h 20 min', '2 d 4 h')
    >>> duration_text(12_000, "zh"), duration_text(725, "zh"), duration_text(187_200, "zh")
    ('3小时20分', '12分钟5秒', '2天4小时')
    """
    if _missing(seconds):
        return MISSING
    day, hour, minute, second = DURATION_UNITS.get(lang, DURATION_UNITS["en"])
    join = "" if lang == "zh" else " "
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}{day}{join}{hours}{hour}"
    if hours:
        # Chinese shortens 分钟 to 分 after hours ("3小时20分"), as a clock reading does.
        return f"{hours}{hour}{join}{minutes}{'分' if lang == 'zh' else minute}"
    if minutes:
        return f"{minutes}{minute}{join}{secs}{second}"
    return f"{secs}{second}"


__all__ = ["MISSING", "CURRENCY_SYMBOLS", "number_text", "money_text", "money_pattern", "date_text",
           "usd_text", "pattern_text", "usd_in_currency_text", "usd_with_currency_text", "gib_text",
           "duration_text"]


def pattern_text(value: object, pattern: str = "{:,.1f}") -> str:
    """``value`` through a format pattern such as ``"{:,.0f} W"``; missing shows a dash.

    >>> pattern_text(245.2, "{:,.0f} W"), pattern_text(None, "{:,.0f} W")
    ('245 W', '—')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    return pattern.format(value)
