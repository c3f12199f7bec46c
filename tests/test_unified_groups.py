"""Unified-memory machines are grouped by vendor, not all under "Apple"."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from pages._charts import GROUP_COLOURS
from pages._text import group_key
from report.text import strings

CAT = load_catalog()


@pytest.mark.parametrize("gpu_id, key", [
    ("apple-m1-8c", "group.apple"), ("dgx-spark", "group.nvidia_unified"),
    ("radeon-8060s", "group.amd_unified"), ("radeon-780m", "group.amd_unified"),
    ("arc-140v", "group.intel_unified"), ("rtx-4090", "group.consumer"),
    ("h100-sxm", "group.professional")])
def test_group_of_each_machine(gpu_id, key):
    assert group_key(CAT.gpu(gpu_id)) == key


def test_every_group_has_a_colour_and_a_label_in_both_languages():
    keys = {group_key(g) for g in CAT.gpus}
    assert keys <= set(GROUP_COLOURS)
    for lang in ("en", "zh"):
        assert keys <= set(strings(lang))
    assert len({strings("en")[k] for k in keys}) == len(keys)


def test_fit_table_names_dgx_spark_an_nvidia_unified_machine():
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"),
                           default_timeout=60)
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    groups = dict(zip(frame["GPU"], frame["Group"]))
    spark = CAT.gpu("dgx-spark").name
    assert groups[spark] == "NVIDIA unified memory"
    assert groups[CAT.gpu("apple-m4-max-40c").name] == "Apple"
