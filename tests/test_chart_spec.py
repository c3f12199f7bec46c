"""Charts as Plotly JSON specs: what Plotly itself would have written, without importing it."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from catalog.catalog import load_catalog
from report.chart_spec import (figure, hline, plotly_js, plotly_js_version, template,
                               to_script_json, vline)
from report.charts import report_specs
from report.content import PlanInputs, report_content
from sizing.estimate import estimate
from sizing.request import parse_request


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_report_spec_is_a_valid_plotly_figure(lang):
    catalog = load_catalog()
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "context_tokens": 8192})
    content = report_content(estimate(request, catalog), lang=lang, request=request,
                             inputs=PlanInputs(budget_usd=2000, users=5), catalog=catalog)
    specs = report_specs(content)
    assert list(specs) == ["memory", "gpus", "value", "break_even"]
    for spec in specs.values():
        fig = go.Figure(spec)  # raises on any property Plotly does not know
        assert [t.name for t in fig.data] == [t["name"] for t in spec["data"]]
        assert fig.layout.template.layout.paper_bgcolor == "white"


@pytest.mark.parametrize("position", ["top", "top left"])
def test_vline_is_what_add_vline_writes(position):
    spec = figure()
    vline(spec, 24.0, line={"color": "#E45756", "dash": "dash", "width": 2}, text="usable",
          position=position)
    fig = go.Figure()
    fig.add_vline(x=24.0, line_dash="dash", line_color="#E45756", line_width=2,
                  annotation_text="usable", annotation_position=position)
    wanted = fig.to_dict()["layout"]
    assert go.Figure(spec).to_dict()["layout"]["shapes"] == wanted["shapes"]
    assert go.Figure(spec).to_dict()["layout"]["annotations"] == wanted["annotations"]


@pytest.mark.parametrize("position", ["top right", "bottom right"])
def test_hline_is_what_add_hline_writes(position):
    spec = figure()
    hline(spec, 10.0, line={"color": "#888", "dash": "dot"}, text="Target", position=position)
    fig = go.Figure()
    fig.add_hline(y=10.0, line_dash="dot", line_color="#888", annotation_text="Target",
                  annotation_position=position)
    wanted = fig.to_dict()["layout"]
    assert go.Figure(spec).to_dict()["layout"]["shapes"] == wanted["shapes"]
    assert go.Figure(spec).to_dict()["layout"]["annotations"] == wanted["annotations"]


def test_the_bundled_files_are_plotlys_own():
    assert go.layout.Template(template("plotly_white")) == pio.templates["plotly_white"]
    assert plotly_js_version() == get_plotlyjs_version()
    assert plotly_js() == get_plotlyjs()


def test_script_json_cannot_close_its_script_tag():
    text = to_script_json({"name": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><b>&"}
