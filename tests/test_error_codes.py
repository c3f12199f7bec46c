"""Every error a user can see carries a code, and every code a sentence in both languages.

A :class:`catalog.errors.UserError` built with ``code="..."`` is shown in the
user's language from ``engine.<code>`` in ``report/locales/{en,zh}.yaml``; one
built without a code can only be shown in English. The guard below parses
every module of the engine, the advisor, the catalog, the report builders and
the command line, and checks each call that builds a UserError subclass.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from catalog.errors import VALIDATION_RULES, UserError, invalid_input, validation_error_params
from report.text import ENGINE_PREFIX, TERM_PREFIX, placeholders, strings, translate_notice
from rigfit.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sizing", "advisor", "catalog", "report", "rigfit")
# A code may be passed on from a caught error (``code=exc.code, params=exc.params``):
# the error caught was itself built with a literal code, checked here at its own call.
PASS_THROUGH = ("code", "params")


def _modules() -> list[tuple[Path, object]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":  # runs the command line on import
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((path, importlib.import_module(name)))
    return found


def _resolved(func: ast.expr, module: object) -> object:
    if isinstance(func, ast.Name):
        return getattr(module, func.id, None)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return getattr(getattr(module, func.value.id, None), func.attr, None)
    return None


def _error_calls() -> list[tuple[str, ast.Call]]:
    """Each call in the packages that builds a UserError subclass, with where it is."""
    calls = []
    for path, module in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            target = _resolved(node.func, module)
            if inspect.isclass(target) and issubclass(target, UserError):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


CALLS = _error_calls()


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _with_code(call: ast.Call, code: ast.expr) -> ast.Call:
    keywords = [kw for kw in call.keywords if kw.arg != "code"] + [ast.keyword("code", code)]
    return ast.Call(call.func, call.args, keywords)


def _problem(call: ast.Call) -> str | None:
    """What is wrong with one error call's code and params, or None."""
    code, params = _keyword(call, "code"), _keyword(call, "params")
    if isinstance(code, ast.Attribute) and code.attr == PASS_THROUGH[0]:
        if not (isinstance(params, ast.Attribute) and params.attr == PASS_THROUGH[1]):
            return "passes a code on without its params"
        return None
    if isinstance(code, ast.IfExp):  # code="a" if ... else "b": both must hold
        return (_problem(_with_code(call, code.body)) or _problem(_with_code(call, code.orelse)))
    if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
        return "has no code=\"...\""
    english = strings("en").get(ENGINE_PREFIX + code.value)
    chinese = strings("zh").get(ENGINE_PREFIX + code.value)
    if english is None or chinese is None:
        return f"code {code.value!r} has no engine.{code.value} in both locale files"
    if params is None:
        names: set[str] | None = set()
    elif isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys):
        names = {k.value for k in params.keys}
    else:
        names = None  # built elsewhere: checked by the rendering tests
    if names is not None and not placeholders(english) == placeholders(chinese) == names:
        return (f"engine.{code.value} expects {sorted(placeholders(english))} / "
                f"{sorted(placeholders(chinese))}, the call gives {sorted(names)}")
    if isinstance(params, ast.Dict):
        for key, value in zip(params.keys, params.values):
            if (key is not None and key.value.endswith("_term") and isinstance(value, ast.Constant)
                    and TERM_PREFIX + value.value not in strings("zh")):
                return f"term {value.value!r} has no {TERM_PREFIX}{value.value} in Chinese"
    return None


def test_the_guard_sees_the_error_calls():
    where = {w.split(":")[0] for w, _ in CALLS}
    assert len(CALLS) > 100
    assert {"sizing/request.py", "advisor/plan.py", "catalog/catalog.py",
            "rigfit/report_cli.py"} <= where


@pytest.mark.parametrize("where,call", CALLS, ids=[w for w, _ in CALLS])
def test_every_user_error_has_a_code_with_sentences(where, call):
    assert _problem(call) is None, f"{where}: {_problem(call)}"


def test_the_guard_refuses_an_uncoded_error():
    bare = ast.parse('RequestError("unknown thing")').body[0].value
    wrong = ast.parse('RequestError("x", code="runtime_not_quant", params={"runtime": 1})').body[0].value
    good = ast.parse('RequestError("x", code="no_power_limit", params={"gpu": "A"})').body[0].value
    assert "no code" in _problem(bare)
    assert "expects" in _problem(wrong)
    assert _problem(good) is None


class _Settings(BaseModel):
    users: int = Field(ge=1, le=64)
    mode: str = Field(pattern="^(a|b)$")


@pytest.mark.parametrize("data,chinese", [
    ({"users": 0, "mode": "a"}, "users：必须不小于 1"),
    ({"users": "many", "mode": "a"}, "users：必须是整数"),
    ({"mode": "a"}, "users：必须填写"),
])
def test_a_validation_error_is_said_in_chinese(data, chinese):
    with pytest.raises(ValidationError) as info:
        _Settings.model_validate(data)
    error = invalid_input(info.value)
    assert error.code == "invalid_field"
    assert set(validation_error_params(info.value)) == placeholders(strings("zh")["engine.invalid_field"])
    assert translate_notice(error, "zh").startswith(chinese)
    assert translate_notice(error, "en") == str(error)


def test_every_validation_rule_has_a_chinese_phrase():
    chinese = strings("zh")
    assert [r for r in (*VALIDATION_RULES, "invalid") if TERM_PREFIX + r not in chinese] == []


def _chinese_error(capsys, *argv: str) -> str:
    code = main(["--lang", "zh", *argv])
    _, err = capsys.readouterr()
    assert code == 2
    return err.strip()


def test_unknown_gpu_in_chinese(capsys):
    err = _chinese_error(capsys, "estimate", "--model", "llama-3-8b", "--gpu", "rtx4090")
    assert "未知的显卡“rtx4090”；最接近的：rtx-4090" in err
    assert "unknown" not in err


def test_runtime_quant_mismatch_in_chinese(capsys):
    err = _chinese_error(capsys, "estimate", "--model", "llama-3-8b", "--gpu", "rtx-4090",
                         "--runtime", "transformers", "--quant", "q4_k_m")
    assert "推理框架 transformers 不能运行量化格式 q4_k_m" in err
    assert "cannot" not in err


def test_bad_request_number_in_chinese(capsys):
    err = _chinese_error(capsys, "estimate", "--model", "llama-3-8b", "--prompt-tokens", "-5")
    assert "prompt_tokens：必须不小于 0" in err
    assert "Input should" not in err


def test_bad_circuit_in_chinese(capsys):
    err = _chinese_error(capsys, "plan", "--model", "llama-3-8b", "--budget-usd", "3000",
                         "--circuit", "230x999")
    assert "断路器额定电流必须在" in err and "999" in err


def test_bad_config_json_number_in_chinese(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"hidden_size": -4096, "intermediate_size": 14336,
                                "num_attention_heads": 32, "num_hidden_layers": 32,
                                "num_key_value_heads": 8, "vocab_size": 128256}))
    err = _chinese_error(capsys, "estimate", "--hf-config", str(path), "--gpu", "rtx-4090")
    assert "hidden_size" in err and "-4096" in err
    assert not any(word in err for word in ("must", "should", "got"))


def test_hostile_gguf_in_chinese(tmp_path, capsys):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (2**62).to_bytes(8, "little")
                     + (0).to_bytes(8, "little"))
    err = _chinese_error(capsys, "estimate", "--gguf", str(path), "--gpu", "rtx-4090")
    assert "model.gguf" in err
    assert not any(word in err for word in ("cannot", "must", "tensors", "claims"))


def test_hub_failure_in_chinese(capsys, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    err = _chinese_error(capsys, "estimate", "--hf-id", "meta-llama/Llama-3.1-8B", "--gpu",
                         "rtx-4090")
    assert "meta-llama/Llama-3.1-8B" in err
    assert not any(word in err for word in ("cannot", "could not", "failed", "refused"))


@pytest.mark.parametrize("argv,chinese", [
    (["estimate", "--format", "xml"], "参数 --format 的取值“xml”无效"),
    (["estimate", "--gpu-count", "x"], "参数 --gpu-count 的值“x”不是整数"),
    (["plan", "--model", "llama-3-8b"], "参数 --budget-usd --budget 必须给出其中一个"),
    (["estimate", "--bogus"], "无法识别的参数：--bogus"),
])
def test_command_line_usage_errors_in_chinese(capsys, argv, chinese):
    err = _chinese_error(capsys, *argv)
    assert err.startswith("错误：rigfit") and chinese in err


@pytest.mark.parametrize("argv,chinese", [
    (("estimate", "--model", "llama-3-8b", "--context-tokens", "1"),
     "context_tokens（1）小于提示 token 与新 token 之和（1024）"),
    (("estimate", "--model", "llama-3-8b", "--prompt-tokens", "0", "--new-tokens", "0"),
     "prompt_tokens 与 new_tokens 都为 0"),
    (("estimate", "--model", "llama-3-8b", "--params-b", "7"),
     "只能给出以下其中一个：model, hf_config, params_b, hf_id, gguf, safetensors"
     "（当前给出了 model, params_b）"),
    (("estimate", "--model", "llama-3-8b", "--revision", "main"), "revision 必须与 hf_id 一起给出"),
    (("estimate", "--model", "llama-3-8b", "--prompt-tokens", "9000000", "--new-tokens", "9000000"),
     "prompt_tokens + new_tokens（18,000,000）超过了 RigFit 计算的最长上下文（10,000,000 个 token）"),
    (("finetune", "--model", "llama-3-8b", "--gpu", "rtx-4090", "--method", "lora",
      "--frozen-layers", "2"), "frozen_layers 与 freeze_embeddings 只用于全参数微调"),
    (("finetune", "--model", "llama-3-8b", "--gpu", "rtx-4090", "--method", "full",
      "--optimizer-in-backward", "--grad-accum", "4"), "grad_accum 必须为 1"),
])
def test_a_request_wide_check_is_said_in_chinese(capsys, argv, chinese):
    """A check across fields (no one field to name) keeps its sentence, in Chinese too."""
    err = _chinese_error(capsys, *argv)
    assert chinese in err and "无效" not in err


class _Checked(BaseModel):
    low: int = 1
    high: int = 2

    @model_validator(mode="after")
    def _ordered(self) -> _Checked:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


def test_a_check_worded_only_in_english_is_shown_in_english_not_emptied():
    with pytest.raises(ValidationError) as info:
        _Checked(low=3)
    error = invalid_input(info.value)
    assert translate_notice(error, "zh") == "low must not exceed high" == str(error)
