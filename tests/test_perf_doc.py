"""benchmarks/perf_doc.py: a script rewrites its own section and nothing else."""

from __future__ import annotations

from benchmarks.perf_doc import percentile, write_section


def test_a_section_is_appended_then_replaced_and_the_rest_is_kept(tmp_path):
    report = tmp_path / "performance.md"
    report.write_text("# Performance\n\nWritten by hand.\n", encoding="utf-8")
    write_section("load", "## Load\n\nold", report=report)
    write_section("fits", "## Fits\n\nkept", report=report)
    write_section("load", "## Load\n\nnew", report=report)
    text = report.read_text(encoding="utf-8")
    assert text == ("# Performance\n\nWritten by hand.\n\n<!-- load -->\n## Load\n\nnew\n"
                    "<!-- /load -->\n\n<!-- fits -->\n## Fits\n\nkept\n<!-- /fits -->\n")


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) == 11.0
    assert percentile(values, 0.95) == 19.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN
