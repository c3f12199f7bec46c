"""Fuzzing the app: random links and widget values on every page, through AppTest.

Hypothesis draws a query string (real ids, unknown ids, huge, negative and
non-finite numbers, markup, unicode) and then a few widget changes within the
widgets' own ranges, pastes of nvidia-smi or benchmark output, and config.json
uploads with hostile numbers and names. After every run: no exception, every
number shown is finite, nothing from the input is rendered as markup or a link,
and every verdict agrees with the numbers beside it. Derandomized, so CI sees
the same 20 examples per page each run; ``RIGFIT_FUZZ_EXAMPLES=200`` draws that
many fresh examples per page, new ones every run (tests/conftest.py), and
``--hypothesis-seed=S`` repeats such a run.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from pages._inputs import BENCH_PASTE_KEY, SMI_PASTE_KEY
from pages._state import MAX_COMPARE, PARAMS, SORTS, SOURCES, STATE_KEY
from report.text import LANGUAGES, translate
from tests.conftest import fuzz_examples
from tests.model_configs import LLAMA3_8B, LLAMA3_8B_SHAPE_FIELDS

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ("pages/configurator.py", "pages/compare.py", "pages/builds.py", "pages/cloud.py",
         "pages/reports.py", "pages/method.py", "pages/serve.py", "pages/finetune.py")
CAT = load_catalog()

NASTY = ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "nan", "NaN", "inf",
         "-Infinity", "1e99", "1e308", "-5", "0", "-0", "0x10", "1_000", "", " ", "🧮", "显卡",
         "rtx-4090,<b>x</b>", "../../etc/passwd", "' OR 1=1 --", "\u202e\u0000", "a" * 300,
         "rtx-4090," * 40, "[link](javascript:alert(1))", "**bold**", "$x^2$")
# Raw option values per widget-key suffix (AppTest needs values, not labels).
OPTIONS: dict[str, list] = {
    "_source": list(SOURCES),
    "_model": [m.id for m in CAT.models],
    "_quant": [q.id for q in CAT.quants],
    "_runtime": [r.id for r in CAT.runtimes],
    "_kv_cache": [k.id for k in CAT.kv_cache_types],
    "_gpu": [g.id for g in CAT.gpus],
    "_sort": list(SORTS),
    "_currency": [c.code for c in CAT.market.currencies],
    "w_lang": list(LANGUAGES),
}
# Markup that would render as HTML if a value reached the page unescaped.
RAW_MARKUP = re.compile(r"(?<!\\)<\s*/?\s*(img|script|iframe|svg|b|a)\b", re.IGNORECASE)
NOT_FINITE = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)
# What GFM links with no link syntax (mdast-util-gfm-autolink-literal), in a message's
# text outside code spans with escapes resolved.
AUTOLINK_LITERAL = re.compile(r"https?://|www(?=\.)|[-.\w+]+@[-\w]+(?:\.[-\w]+)+",
                              re.IGNORECASE | re.ASCII)
# Pasted lines: nvidia-smi's own, broken ones, benchmark-looking ones, and any text.
PASTE_LINES = st.one_of(st.sampled_from([
    "name, memory.total [MiB]", "NVIDIA GeForce RTX 4090, 24564 MiB", "NVIDIA L4, [N/A]",
    "NVIDIA GeForce RTX 4090, 1.2.3 MiB", "www.example.com, 1e999 MiB", "a@b.co, -1",
    "| model | size | params | backend | ngl | test | t/s |",
    "| llama 8B Q4_K_M | 4.58 GiB | 8.03 B | CUDA | 99 | tg128 | nan ± 0.1 |",
    "eval rate: 1e999 tokens/s", *NASTY]), st.text(max_size=40))
# JSON number texts for one config.json field: real, huge, non-finite, past Python's digits.
CONFIG_NUMBERS = ("4096", "1", "0", "-1", "0.5", "true", "null", '"12"', "1e400", "NaN",
                  "-Infinity", "1" + "0" * 400, "9" * 5000)
GIB = re.compile(r"(-?[\d,]+\.?\d*) GiB")


def valid_value(name: str) -> st.SearchStrategy[str]:
    spec = PARAMS[name]
    if spec.kind in ("choice", "list"):
        ids = spec.choices(CAT)
        if spec.kind == "list":
            return st.lists(st.sampled_from(ids), min_size=1, max_size=4).map(",".join)
        return st.sampled_from(ids)
    if spec.kind == "circuit":  # VOLTSxAMPS at the engine's limits
        return st.sampled_from(["100x5", "250x63", "230x16", "120x15"])
    if spec.kind == "prices":  # own prices in the chosen currency
        return st.sampled_from(["rtx-3090:700", "rtx-4090:0.01,rtx-3090:99999999"])
    if math.isinf(spec.high):  # money in the chosen currency: bounded once converted
        return st.sampled_from(["0", "0.5", "6000", "1e+12"])
    numbers = st.sampled_from([spec.low, spec.high, (spec.low + spec.high) / 2])
    if spec.kind == "int":
        return numbers.map(lambda v: str(int(v)))
    return numbers.map(lambda v: f"{v:g}")


QUERY = st.dictionaries(
    keys=st.sampled_from(sorted(PARAMS)) | st.sampled_from(["colour", "<b>", "model[]", "页"]),
    values=st.one_of(st.sampled_from(NASTY), st.text(max_size=20)),
    max_size=6,
).flatmap(lambda bad: st.fixed_dictionaries(
    {}, optional={name: valid_value(name) for name in sorted(PARAMS)}).map(
        lambda good: {**good, **bad}))


def numbers_in(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"-?\d[\d,]*\.?\d*", text)]


def check_page(at: AppTest) -> None:
    """Every invariant the fuzzing asserts on one rendered run."""
    assert not at.exception, [e.value for e in at.exception]
    lang = at.session_state[STATE_KEY]["lang"] if STATE_KEY in at.session_state else "en"
    texts = [e.value for kind in ("markdown", "caption", "title", "subheader", "header",
                                  "success", "info", "warning", "error")
             for e in getattr(at, kind)]
    for text in texts:
        assert not RAW_MARKUP.search(str(text)), text
    for metric in at.metric:
        assert not NOT_FINITE.search(metric.value), (metric.label, metric.value)
        assert all(math.isfinite(n) for n in numbers_in(metric.value)), metric.value
    for frame in (d.value for d in at.dataframe):
        numeric = frame.select_dtypes("number")
        assert not numeric.isin([math.inf, -math.inf]).any().any(), frame
    for element in at.get("json"):
        assert_finite_json(json.loads(element.proto.body))
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            for axis in ("x", "y"):
                values = trace.get(axis) or []
                assert all(v is None or not isinstance(v, float) or math.isfinite(v)
                           for v in values), (axis, values)
    check_verdict(at, lang)


def assert_finite_json(value) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for item in value.values():
            assert_finite_json(item)
    elif isinstance(value, list):
        for item in value:
            assert_finite_json(item)


def prefix(key: str, lang: str) -> str:
    return translate(key, lang).split("{")[0]


def check_verdict(at: AppTest, lang: str) -> tuple[str, float, float] | None:
    """The Configurator's verdict agrees with the needed and usable memory shown.

    Returns (verdict, needed GiB, usable GiB) as read, None where none is shown.
    """
    shown = {m.label: m.value for m in at.metric}
    needed_label, usable_label = translate("config.needed", lang), translate("config.usable", lang)
    fits = [s.value for s in at.success if s.value.startswith(prefix("verdict.fits", lang))]
    offload = [w.value for w in at.warning if w.value.startswith(prefix("verdict.offload", lang))]
    no_fit = [e.value for e in at.error if e.value.startswith(prefix("verdict.no_fit", lang))]
    verdicts = len(fits) + len(offload) + len(no_fit)
    if needed_label not in shown:
        assert verdicts == 0
        return None
    assert verdicts == 1, (fits, offload, no_fit)
    needed = float(GIB.search(shown[needed_label]).group(1).replace(",", ""))
    usable = float(GIB.search(shown[usable_label]).group(1).replace(",", ""))
    # Both are rounded to 0.1 GiB for display.
    if fits:
        assert needed <= usable + 0.1, (needed, usable)
        headroom = float(GIB.search(fits[0]).group(1).replace(",", ""))
        assert headroom == pytest.approx(usable - needed, abs=0.11)
    else:
        assert needed >= usable - 0.1, (needed, usable)
    if no_fit:
        short = float(GIB.search(no_fit[0]).group(1).replace(",", ""))
        assert short == pytest.approx(needed - usable, abs=0.11)
    if at.dataframe:
        frame = at.dataframe[0].value
        headroom_col = translate("table.headroom", lang)
        if headroom_col in frame:
            assert (frame[headroom_col] >= -0.05).all()  # the table lists GPUs that fit
    return ("fits" if fits else "offload" if offload else "no-fit"), needed, usable


def change_widgets(at: AppTest, data: st.DataObject) -> None:
    """One random change to a widget, within what the browser would send.

    Every call draws the same primitives (a widget, a position, a fraction, a
    few option indices) whatever the page shows, then maps them onto the
    widgets there: the widgets on a page depend on earlier choices (a runtime
    offers only its own precisions), and Hypothesis needs the same draws to
    replay an example.
    """
    pick = data.draw(st.integers(0, 10**6), label="widget")
    edge = data.draw(st.integers(0, 2), label="edge")
    fraction = data.draw(st.floats(0, 1), label="fraction")
    indices = data.draw(st.lists(st.integers(0, 10**6), min_size=MAX_COMPARE + 1,
                                 max_size=MAX_COMPARE + 1), label="options")
    widgets = sorted((w for w in (*at.number_input, *at.selectbox, *at.radio, *at.multiselect)
                      if w.key and not w.disabled), key=lambda w: w.key)
    if not widgets:
        return
    widget = widgets[pick % len(widgets)]
    if widget.type == "number_input":
        low = widget.min if widget.min is not None else -1e6
        high = widget.max if widget.max is not None else 1e6
        value = (low, high, low + fraction * (high - low))[edge]
        widget.set_value(int(value) if isinstance(widget.value, int) else value)
    elif widget.type == "multiselect":
        options = OPTIONS["_gpu"]
        count = indices[0] % (MAX_COMPARE + 1)
        widget.set_value(list(dict.fromkeys(options[i % len(options)] for i in indices[1:count + 1])))
    else:
        suffix = next((s for s in OPTIONS if widget.key.endswith(s)), None)
        offered = [v for v in OPTIONS.get(suffix, []) if shown_as_option(widget, v)]
        if not offered:
            return
        widget.set_value(offered[indices[0] % len(offered)])
    at.run()


def paste_or_upload(at: AppTest, data: st.DataObject) -> None:
    """One paste (nvidia-smi or benchmark output) or config.json upload, then a run.

    Draws the same primitives every call, whichever input the page has, so
    Hypothesis can replay an example (see :func:`change_widgets`).
    """
    kind = data.draw(st.integers(0, 2), label="input")
    lines = data.draw(st.lists(PASTE_LINES, max_size=6), label="lines")
    field = data.draw(st.sampled_from(LLAMA3_8B_SHAPE_FIELDS), label="field")
    number = data.draw(st.sampled_from(CONFIG_NUMBERS), label="number")
    name = data.draw(st.sampled_from(NASTY), label="name")
    if kind < 2:
        key = (SMI_PASTE_KEY, BENCH_PASTE_KEY)[kind]
        if any(area.key == key for area in at.text_area):
            at.text_area(key=key).input("\n".join(lines)[:4000])
            at.run()
        return
    source = [r for r in at.radio if r.key and r.key.endswith("_source")]
    if not source:
        return
    source[0].set_value("upload")
    at.run()
    text = json.dumps({**LLAMA3_8B, field: 0, "_name_or_path": name})
    at.file_uploader(key="w_upload").set_value(
        ("config.json", text.replace(f'"{field}": 0', f'"{field}": {number}').encode(),
         "application/json"))
    at.run()


def check_no_link(at: AppTest) -> None:
    """No message (where echoed input lands) holds text Markdown would turn into a link."""
    for element in (*at.warning, *at.error):
        for piece in re.split(r"`[^`]*`", element.value):
            unescaped = re.sub(r"\\(.)", r"\1", piece)
            assert not AUTOLINK_LITERAL.search(unescaped), element.value


def shown_as_option(widget, value) -> bool:
    """Whether the page offers ``value`` in this select or radio (as a browser could pick)."""
    try:
        return str(widget.format_func(value)) in widget.options
    except Exception:  # a label that needs the page's own context: offer every value
        return True


FUZZ = settings(max_examples=fuzz_examples(20), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize(("query", "expected"), [
    ({}, "fits"),
    ({"model": "llama-3.1-70b", "gpu": "rtx-4060", "lang": "zh"}, "offload"),
    ({"model": "llama-3.1-405b", "quant": "f16", "gpu": "gtx-1660-super"}, "no-fit"),
])
def test_the_checks_read_every_kind_of_verdict(query, expected):
    """The invariants are not vacuous: each verdict is found and its numbers read."""
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    check_page(at)
    verdict, needed, usable = check_verdict(at, query.get("lang", "en"))
    assert verdict == expected and needed > 0 and usable > 0
    assert RAW_MARKUP.search("<img src=x>") and not RAW_MARKUP.search("\\<img src=x>")


@pytest.mark.parametrize("page", PAGES)
@FUZZ
@given(query=QUERY, data=st.data())
def test_random_links_and_widgets_never_break_a_page(page, query, data):
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    check_page(at)
    if page != PAGES[0]:
        at.switch_page(page)
        at.run()
        check_page(at)
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        change_widgets(at, data)
        check_page(at)
    paste_or_upload(at, data)
    check_page(at)
    check_no_link(at)
    at.run()  # an upload stays in the uploader and is read again
    check_page(at)
