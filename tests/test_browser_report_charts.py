"""The offline HTML report's charts drawn by plotly.js in Chromium, from the specs alone."""

from __future__ import annotations

import pytest

from catalog.catalog import load_catalog
from report.charts import report_specs
from report.content import PlanInputs, report_content
from report.html import render_html
from sizing.estimate import estimate
from sizing.request import parse_request


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_chart_is_drawn_with_its_traces_and_titles(browser, tmp_path, lang):
    catalog = load_catalog()
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "context_tokens": 8192})
    content = report_content(estimate(request, catalog), lang=lang, request=request,
                             inputs=PlanInputs(budget_usd=2000, users=5), catalog=catalog)
    path = tmp_path / "report.html"
    path.write_bytes(render_html(content))
    specs = report_specs(content)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    for key, spec in specs.items():
        div = f"#chart-{key.replace('_', '-')}"
        page.wait_for_selector(f"{div} .main-svg", timeout=20_000)
        drawn = page.evaluate(f"""() => {{
            const gd = document.querySelector("{div}");
            return {{traces: gd._fullData.map(t => t.name),
                     title: gd._fullLayout.title.text,
                     points: gd.querySelectorAll(".point").length}};
        }}""")
        assert drawn["traces"] == [t["name"] for t in spec["data"]], key
        assert drawn["title"] == spec["layout"]["title"]["text"]
        assert drawn["points"] >= sum(len(t["x"]) for t in spec["data"]
                                      if "lines" not in t.get("mode", "markers")), key
    assert errors == []
    page.close()
