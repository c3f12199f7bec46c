"""Reports: PDF text and charts in both languages, an offline HTML file, escaping.

Built reports are shared across tests (module-scoped fixtures), so the whole
file runs in a few seconds.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest

from catalog.catalog import load_catalog
from report import charts
from report.content import PlanInputs, report_content
from report.text import NAME_PREFIX, placeholders, strings
from report.html import render_html, write_html
from report.pdf import render_pdf
from sizing.architecture import parse_hf_config_text
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.request import parse_request
from sizing.units import bytes_to_gib

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert(1)</script>"
LLAMA3_8B = {  # meta-llama/Meta-Llama-3-8B config.json
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
    "rope_theta": 500000.0, "tie_word_embeddings": False,
}
INPUTS = PlanInputs(budget_usd=2000, users=5, hours_per_day=8)
needs_pdftotext = pytest.mark.usefixtures("pdftotext_installed")  # fails in CI when missing


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """pdftotext output with whitespace runs collapsed to one space."""
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True)
    return " ".join(done.stdout.decode("utf-8").split())


def pdf_image_count(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "i.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                          check=True)
    return len(done.stdout.splitlines()) - 2  # two header lines


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def result(catalog):
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090", "context_tokens": 8192})
    return estimate(request, catalog)


@pytest.fixture(scope="module")
def contents(result, catalog):
    return {lang: report_content(result, lang=lang, inputs=INPUTS, catalog=catalog)
            for lang in ("en", "zh")}


@pytest.fixture(scope="module")
def pdfs(contents):
    return {lang: render_pdf(c) for lang, c in contents.items()}


@pytest.fixture(scope="module")
def htmls(contents):
    return {lang: render_html(c).decode("utf-8") for lang, c in contents.items()}


@pytest.fixture(scope="module")
def evil(catalog):
    """A report on an uploaded config.json whose model name is markup."""
    arch = parse_hf_config_text(json.dumps(LLAMA3_8B).encode(), name=EVIL)
    request = parse_request({"hf_config": "config.json", "gpu": "rtx-3090"})
    result = estimate(request, catalog, arch=arch)
    content = report_content(result, lang="en", arch=arch, inputs=INPUTS, catalog=catalog)
    return {"result": result, "content": content,
            "html": render_html(content).decode("utf-8"),
            "pdf": render_pdf(content, charts_enabled=False)}


# --- content ------------------------------------------------------------------------


def test_strings_have_the_same_keys_and_fields_in_both_languages():
    en, zh = strings("en"), strings("zh")
    # Chinese alone adds names for catalog entries whose English name holds words.
    assert set(en) == {key for key in zh if not key.startswith(NAME_PREFIX)}
    # The fields a string fills, with or without a format spec ("{users:count:user:users}").
    for key in en:
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_content_has_every_section_in_order(contents):
    keys = [s.key for s in contents["en"].sections]
    assert keys[:7] == ["inputs", "memory", "gpus", "tiers", "cloud", "power", "assumptions"]
    assert keys[-1] == "sources"
    assert [s.key for s in contents["zh"].sections] == keys


def test_gpu_comparison_starts_with_the_chosen_gpu_and_lists_fitting_alternatives(contents,
                                                                                 result):
    bars = contents["en"].gpu_chart.bars
    assert bars[0].chosen and result.gpu_name in bars[0].label
    assert 3 <= len(bars) <= 6
    assert all(b.fits for b in bars[1:])
    assert bars[0].decode_tokens_per_s == pytest.approx(result.speed.decode_tokens_per_s)


def test_memory_chart_parts_add_up_to_the_total(contents, result):
    chart = contents["en"].memory_chart
    assert sum(p.gib for p in chart.parts) == pytest.approx(bytes_to_gib(result.memory.total_bytes))
    assert chart.usable_gib == pytest.approx(bytes_to_gib(result.memory.usable_bytes))


def test_catalog_dates_are_shown(contents, catalog):
    values = [f.value for f in contents["en"].as_of]
    assert catalog.speed_calibration.fitted_on.isoformat() in values


# A budget below the cheapest complete machine: the advisor refuses and says why.
TOO_SMALL = PlanInputs(budget_usd=50, users=1, hours_per_day=8)


def test_when_the_advisor_refuses_tiers_and_cloud_say_why(result, catalog):
    content = report_content(result, lang="zh", inputs=TOO_SMALL, catalog=catalog)
    assert content.plan is None and content.section("tiers").tables == ()
    for key in ("tiers", "cloud"):
        assert "cheapest complete machine" in content.section(key).notes[0]


def test_plan_figures_match_the_plan_in_each_language(contents):
    from report import plan_charts as pc

    for lang, title, crossing in (("en", "Cumulative cost: buy vs rent", "Break-even"),
                                  ("zh", "累计花费：购买与租用", "回本点")):
        content = contents[lang]
        figures = charts.report_figures(content)
        assert list(figures) == ["memory", "gpus", "value", "break_even"]
        plan = content.plan
        value = figures["value"]
        assert value.layout.template.layout.paper_bgcolor == "white"  # not Streamlit's placeholder colours
        points = pc.value_points(plan)
        assert [t.x[0] for t in value.data] == pytest.approx([p.price for p in points])
        assert value.data[0].name == pc.roles_text(points[0].roles, content.plan_chart_labels)
        even = figures["break_even"]
        assert even.layout.title.text == title and even.data[-1].name == crossing
        expected = sorted(c.months for c in pc.crossings(pc.cheapest_cloud(plan.cloud, 3)))
        assert sorted(even.data[-1].x) == pytest.approx(expected)
    assert contents["zh"].plan_chart_labels["budget"] == contents["zh"].section(
        "tiers").tables[0].rows[0][0]  # the chart names tiers as the table does


def test_without_a_plan_only_the_estimate_charts_are_drawn(result, catalog):
    content = report_content(result, lang="en", inputs=TOO_SMALL, catalog=catalog)
    assert content.plan is None
    assert list(charts.report_figures(content)) == ["memory", "gpus"]
    assert render_html(content, cdn=True).decode("utf-8").count("Plotly.newPlot(") == 2


def test_no_plan_charts_when_no_local_build_exists(catalog):
    # DeepSeek-R1 at f16: cloud instances run it, no local build does.
    result = estimate(parse_request({"model": "deepseek-r1", "gpu": "gtx-1660-super",
                                     "quant": "f16"}), catalog)
    content = report_content(result, lang="en", inputs=PlanInputs(), catalog=catalog)
    assert content.plan.tiers == [] and content.section("cloud").tables
    assert list(charts.report_figures(content)) == ["memory", "gpus"]


@pytest.mark.parametrize("data", [
    {"params_b": 70, "gpu": "rtx-4090"},  # offload
    {"model": "llama-2-70b", "gpu": "rtx-4060", "runtime": "exllamav2", "quant": "exl2-4"},
    {"model": "deepseek-r1", "gpu": "gtx-1660-super", "quant": "f16"},  # not one layer fits
])
def test_offload_and_no_fit_scenarios_render(data, catalog):
    result = estimate(parse_request(data), catalog)
    content = report_content(result, lang="zh", inputs=PlanInputs(), catalog=catalog)
    assert content.verdict.level == result.memory.verdict != "fits"
    assert content.verdict.word in render_html(content, cdn=True).decode("utf-8")


# --- PDF ------------------------------------------------------------------------------


@needs_pdftotext
@pytest.mark.parametrize("lang, verdict, section", [("en", "FITS", "Memory breakdown"),
                                                    ("zh", "放得下", "显存构成")])
def test_pdf_text_has_the_verdict_and_key_numbers(pdfs, contents, result, tmp_path, lang,
                                                  verdict, section):
    text = pdf_text(pdfs[lang], tmp_path)
    mem = result.memory
    assert verdict in text and section in text
    assert f"{bytes_to_gib(mem.total_bytes):.1f} GiB" in text
    assert f"{bytes_to_gib(mem.usable_bytes):.1f} GiB" in text
    assert f"{result.speed.decode_tokens_per_s:.1f}" in text
    assert f"{result.power.system_power_w:.0f} W" in text
    assert result.gpu_name in text and result.model.name in text
    tiers = contents[lang].section("tiers").tables[0]
    assert len(tiers.rows) == 3 and all(row[2] in text for row in tiers.rows)  # build prices


@needs_pdftotext
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_draws_four_charts_without_a_browser_or_images(pdfs, contents, monkeypatch,
                                                          tmp_path, lang):
    # memory, GPU comparison, price vs speed (builds), break-even (cloud): drawn as
    # vector lines and text, so no browser is looked for and no image is embedded.
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "missing-chromium"))
    data = render_pdf(contents[lang])
    assert pdf_image_count(data, tmp_path) == 0
    text = pdf_text(data, tmp_path)
    specs = charts.report_specs(contents[lang])
    assert list(specs) == ["memory", "gpus", "value", "break_even"]
    for spec in specs.values():
        assert spec["layout"]["title"]["text"] in text
        for axis in ("xaxis", "xaxis2", "yaxis"):
            title = spec["layout"].get(axis, {}).get("title", {}).get("text")
            assert title is None or title in text, (axis, title)
        for trace in spec["data"]:
            if trace.get("showlegend", True):
                assert trace["name"] in text  # the legend
    for bar in contents[lang].gpu_chart.bars:
        assert bar.label in text  # the GPU axis


@needs_pdftotext
def test_pdf_keeps_user_strings_verbatim(evil, tmp_path):
    text = pdf_text(evil["pdf"], tmp_path)
    assert EVIL in text


# --- HTML ------------------------------------------------------------------------------

EXTERNAL = [
    re.compile(r"<script[^>]*\ssrc\s*=", re.I),
    re.compile(r"<link[^>]*\shref\s*=\s*[\"']?(https?:)?//", re.I),
    re.compile(r"<(img|iframe|source|video|audio|embed|object)[^>]*\s(src|data)\s*=\s*"
               r"[\"']?(https?:)?//", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"url\(\s*[\"']?(https?:)?//", re.I),
]


def test_offline_html_references_nothing_outside_itself(htmls):
    for html in htmls.values():
        for pattern in EXTERNAL:
            assert not pattern.search(html), pattern.pattern


def test_offline_html_inlines_plotly_once_and_has_four_charts(htmls):
    from plotly.offline import get_plotlyjs
    head = get_plotlyjs()[:300]
    for html in htmls.values():
        assert html.count(head) == 1
        assert html.count("Plotly.newPlot(") == 4
        for key in ("memory", "gpus", "value", "break-even"):
            assert html.count(f'id="chart-{key}"') == 1, key


def test_plan_charts_sit_in_the_tiers_and_cloud_sections(htmls):
    for html in htmls.values():
        tiers = html[html.index('<section id="tiers">'):html.index('<section id="cloud">')]
        cloud = html[html.index('<section id="cloud">'):html.index('<section id="power">')]
        assert 'id="chart-value"' in tiers and 'id="chart-break-even"' in cloud


def test_cdn_html_is_small_and_loads_plotly_from_the_cdn(contents):
    html = render_html(contents["en"], cdn=True).decode("utf-8")
    assert len(html) < 200_000
    assert re.search(r'<script[^>]*src="https://cdn\.plot\.ly/plotly-[\d.]+\.min\.js"', html)


def test_html_shows_the_verdict_and_numbers_in_both_languages(htmls, result):
    total = f"{bytes_to_gib(result.memory.total_bytes):.1f} GiB"
    assert "FITS" in htmls["en"] and total in htmls["en"]
    assert "放得下" in htmls["zh"] and total in htmls["zh"] and 'lang="zh-CN"' in htmls["zh"]


def test_html_escapes_user_strings(evil):
    html = evil["html"]
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(re.findall(r"<script\b", html)) == 5  # plotly.js and one per chart (four)


def test_offline_html_makes_no_requests_in_chromium(browser, htmls, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(htmls["zh"], encoding="utf-8")
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page = browser.new_page()
    try:
        page.route("**/*", route)
        alerts: list[str] = []
        page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4",
                               timeout=15_000)
        plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
    finally:
        page.close()
    assert outside == [] and alerts == [] and plots == 4


# --- CLI and layering ----------------------------------------------------------------------


def test_cli_writes_html_and_pdf(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--budget-usd", "1500",
                 "--users", "2", "--lang", "zh", "--format", "html", "--cdn", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "放得下" in html and "cdn.plot.ly" in html
    out = tmp_path / "r.pdf"
    assert main(["report", "--params-b", "14", "--format", "pdf", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("cdn", [False, True])
def test_write_html_writes_render_htmls_bytes_to_any_binary_file(contents, tmp_path, cdn):
    import io

    expected = render_html(contents["zh"], cdn=cdn)
    memory = io.BytesIO(b"<!-- kept -->")  # no descriptor: plotly.js copied in chunks
    memory.seek(0, io.SEEK_END)
    assert write_html(contents["zh"], memory, cdn=cdn) == len(expected)
    assert memory.getvalue() == b"<!-- kept -->" + expected
    path = tmp_path / "r.html"
    with path.open("wb") as handle:  # a file: plotly.js sent by the kernel
        assert write_html(contents["zh"], handle, cdn=cdn) == len(expected)
        assert handle.tell() == len(expected)
    assert path.read_bytes() == expected
    with path.open("ab") as handle:  # appended: the kernel does not send to it
        assert write_html(contents["zh"], handle, cdn=cdn) == len(expected)
    assert path.read_bytes() == expected + expected


def test_cli_writes_the_offline_html_whole_and_says_its_size(tmp_path, capsys):
    from report.chart_spec import plotly_js_bytes

    out = tmp_path / "r.html"
    assert main(["report", "--model", "llama-3.1-8b", "--format", "html", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert capsys.readouterr().out == f"wrote {out} ({len(data):,} bytes)\n"
    before, script, after = data.partition(plotly_js_bytes())
    assert script and before.endswith(b'<script type="text/javascript">')
    assert after.startswith(b"</script>") and after.endswith(b"</html>\n")
    assert main(["report", "--model", "llama-3.1-8b", "--format", "html", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write '{tmp_path}'") and err.count("\n") == 1


def test_cli_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", "--model", "no-such-model", "--format", "pdf",
                 "-o", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown model") and err.count("\n") == 1
    assert main(["report", "--model", "llama-3.1-8b", "--format", "doc", "-o", "x"]) == 2


def test_report_package_never_imports_streamlit():
    for path in (ROOT / "report").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), path.name
