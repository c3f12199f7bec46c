"""Both languages carry the same strings with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from catalog.catalog import load_catalog
from catalog.errors import UserError
from report.formats import date_text, money_text
from report.text import (LANGUAGES, NAME_PREFIX, catalog_name, glossary, language_from,
                         placeholders, strings, translate, translate_notice)
from sizing.request import check_compatibility, parse_request

ROOT = Path(__file__).resolve().parent.parent


def test_both_locales_have_the_same_keys():
    """Every English string has a Chinese twin; Chinese alone adds catalog names (names.*)."""
    english, chinese = strings("en"), strings("zh")
    assert set(english) - set(chinese) == set()
    assert {key for key in set(chinese) - set(english) if not key.startswith(NAME_PREFIX)} == set()
    assert len(english) > 100


def _kinds(cat):
    return {"quant": cat.quants, "cooler": cat.coolers, "storage": cat.storage_classes,
            "interconnect": cat.interconnects}


def test_every_catalog_name_with_words_has_a_chinese_name():
    """A name with an English word in it (not only a product or format name) is translated."""
    cat = load_catalog()
    chinese = strings("zh")
    missing = [f"{kind}.{record.id}" for kind, records in _kinds(cat).items() for record in records
               if re.search(r"\b[a-z]{3,}\b", record.name.replace("bitsandbytes", ""))
               and f"{NAME_PREFIX}{kind}.{record.id}" not in chinese]
    assert missing == []
    known = {f"{NAME_PREFIX}{kind}.{r.id}" for kind, records in _kinds(cat).items() for r in records}
    assert {key for key in chinese if key.startswith(NAME_PREFIX)} - known == set()
    assert catalog_name("cooler", "dual-fan", "Dual-fan open-air cooler", "zh") == "双风扇开放式散热器"
    assert catalog_name("cooler", "dual-fan", "Dual-fan open-air cooler", "en") == (
        "Dual-fan open-air cooler")


def test_an_engine_error_is_shown_in_chinese_from_its_code():
    cat = load_catalog()
    with pytest.raises(UserError) as info:
        check_compatibility(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090",
                                           "runtime": "transformers", "quant": "q4_k_m"}), cat)
    assert info.value.code == "runtime_not_quant"
    assert translate_notice(info.value, "en") == str(info.value)
    chinese = translate_notice(info.value, "zh")
    assert chinese.startswith("推理框架 transformers 不能运行量化格式 q4_k_m；")
    assert "cannot" not in chinese


def test_every_error_code_the_engine_raises_has_a_sentence():
    """``code="..."`` in a raise names an ``engine.<code>`` string with the same fields."""
    codes = set()
    for path in sorted(ROOT.glob("[sacr]*/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                for kw in node.exc.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                        codes.add(kw.value.value)
    assert "runtime_not_quant" in codes
    assert {code for code in codes if f"engine.{code}" not in strings("zh")} == set()


@pytest.mark.parametrize("key", sorted(strings("en")))
def test_placeholders_match(key):
    assert placeholders(strings("en")[key]) == placeholders(strings("zh")[key])


def test_no_empty_strings():
    for lang in LANGUAGES:
        assert all(value.strip() for value in strings(lang).values()), lang


def test_every_key_the_app_uses_exists():
    """Literal t("...") calls in app.py and pages/ name keys that exist."""
    known = set(strings("en"))
    used = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "t" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                used.add(node.args[0].value)
    assert used, "no t() calls found"
    assert used - known == set()


def test_translate_fills_fields_and_falls_back():
    assert translate("verdict.fits", "en", headroom="2.0 GiB") == "Fits, with 2.0 GiB to spare."
    assert "2.0 GiB" in translate("verdict.fits", "zh", headroom="2.0 GiB")
    assert translate("no.such.key", "zh") == "no.such.key"


@pytest.mark.parametrize(("query", "locale", "expected"), [
    ("zh", "en-US", "zh"), ("en", "zh-CN", "en"), (None, "zh-CN", "zh"), (None, "zh-TW", "zh"),
    (None, "de-DE", "en"), (None, None, "en"), ("<b>", "en-US", "en"),
])
def test_language_from(query, locale, expected):
    assert language_from(query, locale) == expected


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="en, zh"):
        strings("fr")


def test_chinese_uses_one_word_per_glossary_term():
    """App, report and command line share the locale files: no avoided variant appears in them."""
    terms = glossary()
    assert terms["token"]["zh"] == "token" and "词元" in terms["token"]["avoid"]
    # A column title may write the term's short form; tests/test_glossary.py checks where.
    found = sorted((term, variant, key) for key, text in strings("zh").items()
                   for term, entry in terms.items() for variant in entry["avoid"]
                   if variant in text and variant != entry.get("short"))
    assert found == []
    used = " ".join(strings("zh").values())
    assert [term for term, entry in terms.items() if entry["zh"] not in used] == []


@pytest.mark.parametrize(("amount", "currency", "lang", "expected"), [
    (42_600, "CNY", "zh", "¥4.26万"), (120_000, "CNY", "zh", "¥12万"), (9_999, "CNY", "zh", "¥9,999"),
    (42_600, "CNY", "en", "¥42,600"), (42_600, "USD", "zh", "$42,600"),
    (-1_234_567, "CNY", "zh", "-¥123.46万"),
])
def test_money_in_chinese_counts_large_yuan_in_wan(amount, currency, lang, expected):
    assert money_text(amount, currency, lang=lang) == expected


def test_dates_read_as_each_language_writes_them():
    import datetime as dt
    assert date_text(dt.date(2026, 12, 2), "zh") == "2026年12月2日"
    assert date_text(dt.date(2026, 12, 2), "en") == "2026-12-02"


def test_the_command_line_prints_an_error_in_the_chosen_language(capsys):
    from rigfit.cli import main
    argv = ["estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--runtime", "transformers",
            "--quant", "q4_k_m"]
    assert main(["--lang", "zh", *argv]) == 2
    chinese = capsys.readouterr().err.strip()
    assert chinese.startswith("错误：推理框架 transformers 不能运行量化格式 q4_k_m；")
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: runtime 'transformers' cannot run quant")


def test_a_plan_that_no_build_meets_says_why_in_chinese():
    from advisor.plan import plan
    request = parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090"})
    with pytest.raises(UserError) as info:
        plan(request, load_catalog(), budget_usd=5000, min_tokens_per_s=5000)
    assert info.value.code == "plan_too_slow"
    chinese = translate_notice(info.value, "zh")
    assert chinese.startswith("目录中没有配置能为 1 位用户以每用户 5000 tokens/s 运行 Llama 3.1 8B：")
    assert "（全新）" in chinese and "desktop" not in chinese


def test_a_field_named_like_an_argument_is_filled():
    """A string's {text}, {key} or {lang} field is a value, not the function's own argument."""
    assert "abc" in translate("inputs.paste_bad_line", "en", line=3, text="abc")
