"""The pages' plain-dict figures (pages/_charts.py): sent unchecked, so checked here.

Each figure a page builds as dicts is rebuilt with plotly's full property
check; it must pass and come out the same, so a misspelt property, a
shorthand plotly would expand (``title="…"``) or a value of the wrong type
fails here instead of reaching the browser.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from catalog.catalog import load_catalog
from pages._charts import CHART_FONT, axis_title, figure, layout
from sizing.estimate import estimate
from sizing.request import parse_request
from sizing.units import bytes_to_gib
from tests.test_app_pages import charts, open_page


def page_figures(page: str | None, **query: str) -> list[dict]:
    return charts(open_page(page, **query))


def checked(spec: dict) -> dict:
    """``spec`` rebuilt with plotly's property check on."""
    return json.loads(go.Figure(spec).to_json())


@pytest.mark.parametrize("page, query", [
    (None, {"model": "qwen2.5-14b"}),
    ("pages/compare.py", {"model": "glm-4-9b", "quant": "q8_0", "context_tokens": "32768",
                          "compare": "rtx-3060-12gb,rtx-4090,apple-m3-ultra-80c"}),
    ("pages/compare.py", {"lang": "zh", "currency": "CNY", "compare": "rtx-3090,l40s"}),
    ("pages/compare.py", {"model": "llama-3.1-405b", "compare": "rtx-3090,rtx-4090"}),
    ("pages/cloud.py", {"model": "qwen2.5-14b", "budget": "3000"}),
])
def test_every_unchecked_figure_passes_plotly_check_unchanged(page, query):
    specs = page_figures(page, **query)
    assert specs
    for spec in specs:
        assert checked(spec) == spec


def test_a_shorthand_or_a_misspelt_property_is_caught():
    loose = figure([{"type": "bar", "x": ["a"], "y": [1.0]}], {"title": "Memory"})
    assert checked(loose.to_dict()) != loose.to_dict()  # the check writes {"text": "Memory"}
    with pytest.raises(ValueError, match="colour"):
        checked(figure([{"type": "bar", "marker": {"colour": "#000000"}}], {}).to_dict())


def test_a_figure_sends_what_plotly_would_send_for_the_same_dicts():
    data = [{"type": "bar", "x": ["a", "b"], "y": [1.0, None], "marker": {"color": "#4C78A8"}}]
    spec = layout(height=300, title="T", xaxis=axis_title("GiB"))
    assert figure(data, spec).to_dict() == go.Figure({"data": data, "layout": spec}).to_dict()
    assert figure(data, spec).to_dict()["layout"]["template"] == go.Figure().to_dict()["layout"][
        "template"]  # plotly's default look, as before


def test_layout_keeps_the_pages_style_and_lets_a_page_replace_a_part():
    spec = layout(height=300, title="T", title_place={"x": 0.0},
                  xaxis=axis_title("GiB", automargin=True), legend={"orientation": "v"})
    assert spec["font"] == {"family": CHART_FONT} and spec["height"] == 300
    assert spec["title"] == {"text": "T", "x": 0.0}
    assert spec["xaxis"] == {"title": {"text": "GiB"}, "automargin": True}
    assert spec["legend"] == {"orientation": "v"}
    spec["margin"]["t"] = 99  # a page's change stays in its own figure
    assert layout()["margin"]["t"] == 50


def test_the_configurator_memory_bar_stacks_the_parts_against_the_usable_line():
    scenario = {"model": "qwen2.5-14b", "gpu": "rtx-4090", "context_tokens": "8192",
                "prompt_tokens": "1024", "new_tokens": "512", "batch": "1"}
    result = estimate(parse_request(scenario), load_catalog())
    memory = page_figures(None, **scenario)[0]
    mem = result.memory
    assert [bar["x"][0] for bar in memory["data"]] == pytest.approx(
        [bytes_to_gib(b) for b in (mem.weights_bytes, mem.kv_cache_bytes,
                                   mem.activations_bytes, mem.overhead_bytes)])
    assert memory["layout"]["barmode"] == "stack"
    line = memory["layout"]["shapes"][0]
    assert line["x0"] == line["x1"] == pytest.approx(bytes_to_gib(mem.usable_bytes))
    assert memory["layout"]["annotations"][0]["text"].endswith(
        f"{bytes_to_gib(mem.usable_bytes):.1f} GiB")
