"""Refused link values: the engine's own bounds, the real reason in both languages, shown as text.

A link value is checked against the same limit the engine applies (a budget
must be above 0, at most 256 users), and the notice names what is wrong with
it: empty, too long, characters no value has, not a number, not a whole
number, below or above the bound it quotes. The value it repeats renders as
its characters: never Markdown, never a link, no invisible control character.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from advisor.plan import BUDGET_USD, HOURS_PER_DAY, MIN_TOKENS_PER_S, USERS
from catalog.catalog import load_catalog
from pages._state import MAX_URL_VALUE_CHARS, PARAMS, config_from_query, read_param, reason_values
from pages._text import plain
from report.text import translate
from sizing.limits import field_limit
from sizing.request import EstimateRequest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CAT = load_catalog()
NUMBERS = sorted(name for name, spec in PARAMS.items() if spec.kind in ("int", "float"))
# Markdown source outside code spans; what is left must hold nothing GFM would link.
CODE_SPAN = re.compile(r"`[^`]*`")
# GFM's autolink literals as its renderer finds them, in text with escapes resolved
# (mdast-util-gfm-autolink-literal): www. or http(s)://, and an e-mail address.
AUTOLINK_LITERAL = re.compile(r"https?://|www(?=\.)|[-.\w+]+@[-\w]+(?:\.[-\w]+)+",
                              re.IGNORECASE | re.ASCII)


def linkable(source: str) -> list[str]:
    """What GFM would link in Markdown ``source``: its text outside code spans, unescaped."""
    pieces = CODE_SPAN.split(source)  # text nodes either side of a span stay apart
    return [m.group() for piece in pieces
            for m in AUTOLINK_LITERAL.finditer(re.sub(r"\\(.)", r"\1", piece))]


def message(name: str, raw: str, lang: str) -> str:
    _, reason = read_param(name, raw, CAT)
    return translate(reason, lang, **reason_values(name))


@pytest.mark.parametrize(("name", "raw", "reason", "en", "zh"), [
    ("users", "100000", "notice.reason_high", "above the largest allowed value, 256",
     "大于允许的最大值 256"),
    ("budget_usd", "0", "notice.reason_above", "it must be above 0", "必须大于 0"),
    ("min_tokens_per_s", "0", "notice.reason_above", "it must be above 0", "必须大于 0"),
    ("memory_gib", "0", "notice.reason_above", "it must be above 0", "必须大于 0"),
    ("context_tokens", "0", "notice.reason_low", "below the smallest allowed value, 1",
     "小于允许的最小值 1"),
    ("prompt_tokens", "10000001", "notice.reason_high",
     "above the largest allowed value, 10,000,000", "大于允许的最大值 10,000,000"),
    ("batch", "2.5", "notice.reason_whole", "not a whole number", "不是整数"),
    ("hours_per_day", "nan", "notice.reason_number", "not a number", "不是数字"),
    ("images", "inf", "notice.reason_number", "not a number", "不是数字"),
    ("gpu", "a" * (MAX_URL_VALUE_CHARS + 1), "notice.reason_long",
     "it is longer than 200 characters", "长度超过 200 个字符"),
    ("gpu", "rtx-4090 x", "notice.reason_chars", "characters that are not allowed", "不允许的字符"),
    ("model", "www.example.com", "notice.reason_unknown", "not a known id", "不是已知的 id"),
    ("users", "", "notice.reason_empty", "it is empty", "值为空"),
])
def test_each_refused_value_gets_its_real_reason(name, raw, reason, en, zh):
    assert read_param(name, raw, CAT) == (None, reason)
    assert en in message(name, raw, "en")
    assert zh in message(name, raw, "zh")


@pytest.mark.parametrize(("name", "limit"), [
    ("budget_usd", BUDGET_USD), ("users", USERS), ("min_tokens_per_s", MIN_TOKENS_PER_S),
    ("hours_per_day", HOURS_PER_DAY), ("batch", field_limit(EstimateRequest, "batch")),
    ("context_tokens", field_limit(EstimateRequest, "context_tokens")),
    ("images", field_limit(EstimateRequest, "images")),
    ("gpu_count", field_limit(EstimateRequest, "gpu_count")),
])
def test_link_bounds_are_the_engines(name, limit):
    assert PARAMS[name].limit == limit


@pytest.mark.parametrize("name", NUMBERS)
@settings(deadline=None)  # timing varies on a shared machine
@given(value=st.one_of(st.integers(-10, 10**9), st.floats(allow_nan=True, allow_infinity=True)))
def test_a_number_in_a_link_is_taken_exactly_when_its_limit_takes_it(name, value):
    raw = (repr(value) if isinstance(value, float) else str(value)).replace("+", "")  # "1e16"
    taken, reason = read_param(name, raw, CAT)
    assert (reason is None) is PARAMS[name].limit.contains(float(raw)), (name, raw, reason)
    if reason is None:
        assert taken == float(raw) and isinstance(taken, int) is (PARAMS[name].kind == "int")
    else:
        assert reason in ("notice.reason_number", "notice.reason_whole", "notice.reason_low",
                          "notice.reason_above", "notice.reason_high")


def test_defaults_are_inside_the_limits():
    cfg, notices = config_from_query({}, CAT, locale=None, default_gpu="rtx-4090")
    assert notices == []
    for name in NUMBERS:
        if isinstance(cfg.get(name), (int, float)):
            assert PARAMS[name].limit.contains(cfg[name]), name


@settings(deadline=None)  # timing varies on a shared machine
@given(st.text())
def test_plain_text_never_leaves_a_link_or_markup(text):
    source = plain(text)
    assert linkable(source) == [], source
    outside = CODE_SPAN.sub(" ", source)
    assert not re.search(r"(?<!\\)[<>\[\]*_`#|~$]", outside.replace("\\\\", "")), source


@pytest.mark.parametrize(("text", "source"), [
    ("www.example.com显卡", "`www.example.com`显卡"),
    ("see https://example.com/a_b?x=1 now", "see `https://example.com/a_b?x=1` now"),
    ("me@example.com", "`me@example.com`"),
    ("WWW.Example.com/x_y", "`WWW.Example.com/x_y`"),  # an address in capitals links too
    ("Qwen2.5 14B (q4_k_m)", "Qwen2.5 14B \\(q4\\_k\\_m\\)"),
    ("<b>\u202e</b>", "\\<b\\>\\\\u202e\\</b\\>"),
])
def test_plain_text_examples(text, source):
    assert plain(text) == source


def test_a_refused_www_value_stays_text_and_keeps_the_chinese_after_it():
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["lang"] = "zh"
    at.query_params["model"] = "www.example.com"
    at.query_params["users"] = "100000"
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    model = next(w for w in warnings if "www.example.com" in w)
    assert "`www.example.com`”：不是已知的 id。已改用默认值。" in model
    assert linkable(model) == [] and linkable("x www.example.com") == ["www"]
    users = next(w for w in warnings if "users" in w)
    assert "大于允许的最大值 256" in users


def test_a_float_in_an_int_field_says_whole_number():
    assert math.isclose(read_param("budget_usd", "2500.5", CAT)[0], 2500.5)
    assert read_param("users", "3.0", CAT) == (3, None)
