"""Pasted nvidia-smi output: every line that cannot be read is named, and the page keeps working."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from pages._detect import MAX_MEMORY_GIB, read_nvidia_smi_csv
from sizing.request import MAX_GPUS

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HEADER = "name, memory.total [MiB]"


@pytest.mark.parametrize(("line", "read"), [
    ("NVIDIA GeForce RTX 4090, 24564 MiB", ("NVIDIA GeForce RTX 4090", 24564.0)),
    ("NVIDIA GeForce RTX 4090,24564", ("NVIDIA GeForce RTX 4090", 24564.0)),
    ("NVIDIA GH200 480GB, [N/A]", ("NVIDIA GH200 480GB", 0.0)),  # memory it does not report
    ("NVIDIA L4", ("NVIDIA L4", 0.0)),  # the name alone
    ("NVIDIA GeForce RTX 4090, 1.2.3 MiB", None),
    ("NVIDIA GeForce RTX 4090, -5 MiB", None),
    ("NVIDIA GeForce RTX 4090, 1e999 MiB", None),
    ("NVIDIA GeForce RTX 4090, nan MiB", None),
    (f"NVIDIA GeForce RTX 4090, {int(MAX_MEMORY_GIB * 1024) + 1} MiB", None),
    ("NVIDIA GeForce RTX 4090, " + "9" * 400 + " MiB", None),
    (", 24564 MiB", None),
    ("NVIDIA GeForce RTX 4090, 24 GB", None),
])
def test_each_line_is_read_or_named(line, read):
    paste = read_nvidia_smi_csv(f"{HEADER}\n\n{line}\n")
    if read is None:
        assert paste.gpus == () and paste.bad_lines == ((3, line),)
    else:
        assert paste.gpus == (read,) and paste.bad_lines == ()


LINE = st.one_of(
    st.text(max_size=60),
    st.tuples(st.text(max_size=30), st.sampled_from([",", ", "]),
              st.one_of(st.integers(-10, 10**12).map(str), st.floats().map(str), st.text(max_size=12)),
              st.sampled_from(["", " MiB", "MiB", " GB"])).map("".join),
)


@settings(deadline=None)  # timing varies on a shared machine
@given(st.lists(LINE, max_size=30))
def test_any_paste_is_read_without_raising(lines):
    text = "\n".join(lines)
    paste = read_nvidia_smi_csv(text)
    written = text.splitlines()
    assert len(paste.gpus) <= MAX_GPUS
    for name, mib in paste.gpus:
        assert name and 0 <= mib <= MAX_MEMORY_GIB * 1024
    for number, line in paste.bad_lines:
        assert written[number - 1].strip() == line and line
    assert [n for n, _ in paste.bad_lines] == sorted({n for n, _ in paste.bad_lines})


def test_an_unreadable_line_is_named_and_the_rest_is_used():
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.text_area(key="w_smi_paste").input(
        f"{HEADER}\nNVIDIA GeForce RTX 4090, 1.2.3 MiB\nNVIDIA GeForce RTX 3090, 24576 MiB\n")
    at.run()
    assert not at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert any(w.startswith('Could not read line 2, "NVIDIA GeForce RTX 4090, 1.2.3 MiB"')
               for w in warnings), warnings
    assert at.success[-1].value.replace("\\", "") == "Matched rtx-3090; selected it."
    assert at.metric  # the estimate is still shown
    at.run()  # and again on the next run, the paste still in the box
    assert not at.exception and at.metric


def test_a_paste_of_nothing_readable_names_each_line_in_chinese():
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["lang"] = "zh"
    at.run()
    at.text_area(key="w_smi_paste").input("\n".join(f"GPU {i}, {i}.{i}.{i}" for i in range(8)))
    at.run()
    assert not at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning]
    named = [w for w in warnings if re.match(r"无法读取第 \d 行", w)]
    assert len(named) == 5 and "另有 3 行无法读取。" in warnings
    assert at.metric
