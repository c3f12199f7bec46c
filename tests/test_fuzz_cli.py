"""Hostile input to every command and to a JSONL batch: exit 0 or 2, one line, never a traceback.

Each command starts from a valid invocation and has one to three of its own
flags replaced by values drawn from hostile pools: huge, infinite and NaN
numbers, numbers past Python's digit limit, wrong types, control and bidi
characters, megabyte-long text, devices, folders and broken files. Commands
whose valid runs take seconds (plan, cloud, report, fits, serve) draw only
from the pools that should be refused, so each example stays fast; the rest
also draw ordinary values.

A JSONL batch mixes good requests with lines that are nested too deeply, not
UTF-8, not JSON, not objects or carry ``true`` as a count: every non-blank
line gets exactly one answer, in order, and an error names its own line.

CI draws a fixed, derandomized sample (the counts below). To explore further,
``RIGFIT_FUZZ_EXAMPLES=2000 PYTHONHASHSEED=3 pytest tests/test_fuzz_cli.py``
draws that many fresh examples per test, new ones every run (tests/conftest.py);
``--hypothesis-seed=S`` repeats a run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigfit.cli import COMMANDS, build_parser, main
from tests.conftest import fuzz_examples

# A valid invocation of each command; the fuzz spoils some of its flags.
BASE: dict[str, list[str]] = {
    "gpus": [], "models": [], "quants": [], "runtimes": [],
    "estimate": ["--model", "llama-3.1-8b"],
    "fits": ["--gpu", "rtx-4090"],
    "plan": ["--model", "llama-3.1-8b", "--budget-usd", "3000"],
    "cloud": ["--model", "llama-3.1-8b"],
    "report": ["--model", "llama-3.1-8b", "--format", "html"],
    "finetune": ["--model", "llama-3.1-8b", "--method", "lora", "--gpu", "rtx-4090"],
    "serve": ["--model", "llama-3.1-8b", "--users", "4"],
    "cloud-offers": [],
}
SLOW = {"plan", "cloud", "report", "fits", "serve"}
# Examples per command: the most where a run is fast and the flags many; 50 for the
# listings (one flag) and for plan, cloud and report (a valid run takes seconds).
EXAMPLES = {"estimate": 300, "finetune": 200, "fits": 100, "serve": 100}
FILE_FLAGS = {"--hf-config", "--requests", "--bench", "--gguf", "--mmproj", "--safetensors"}
NO_NETWORK = {"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9",
              "GPUHUNT_CATALOG_URL": "http://127.0.0.1:9"}  # cloud-offers --refresh: refused

HOSTILE_NUMBERS = ["inf", "-inf", "nan", "NaN", "1e400", "-1e400", "9" * 400, "9" * 5000,
                   "-" + "9" * 400, "1e300", "-1e300", "1e-320", "-1", "0", "-0.0", "0x10",
                   "1_0", "", " ", "true", "\x00", "1\n2", "\u202e7"]
ORDINARY_NUMBERS = ["1", "2", "8", "24", "0.5", "100", "4096", "3000"]
HOSTILE_TEXT = ["", " ", "nope", "x" * 100_000, "\x1b[31mred\x1b[0m", "a\nb", "\u202egnp.exe",
                "../../etc/passwd", "\ud800", "显卡", "rtx-4090\x00", "-", "--model"]


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> list[str]:
    """Paths a file flag may be given: devices, folders, empty, huge, deep, not UTF-8."""
    folder = tmp_path_factory.mktemp("hostile")
    files = {"empty.json": b"", "deep.json": b"[" * 200_000, "bytes.json": b"\xff\xfe\x00{",
             "huge_int.json": b'{"num_hidden_layers": ' + b"9" * 5000 + b"}",
             "nan.json": b'{"hidden_size": NaN, "num_hidden_layers": Infinity}',
             "list.json": b"[1, 2, 3]",
             "strings.json": json.dumps({"num_hidden_layers": "32", "hidden_size": "4096",
                                         "num_attention_heads": 32, "intermediate_size": 1,
                                         "vocab_size": 10, "tie_word_embeddings": "false"}
                                        ).encode()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with (folder / "sparse.json").open("wb") as handle:
        handle.truncate(2**30)  # 1 GiB of zeros that take no disk
    return [str(folder / n) for n in [*files, "sparse.json"]] + [
        "/dev/zero", "/dev/null", str(folder), str(folder / "missing.json")]


def _flags(command: str) -> list[tuple[str, str]]:
    """(flag, kind) of a command: kind is number, choice, switch or text."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(getattr(a, "choices", None), dict))
    out = []
    for action in sub.choices[command]._actions:
        if not action.option_strings or action.dest in ("help", "output"):
            continue
        flag = action.option_strings[-1]
        if action.nargs == 0:
            kind = "switch"
        elif action.type in (int, float):
            kind = "number"
        elif action.choices:
            kind = "choice"
        else:
            kind = "text"
        out.append((flag, kind))
    return out


def _value(draw, flag: str, kind: str, slow: bool, files: list[str]) -> list[str]:
    if kind == "switch":
        return [flag]
    if flag in FILE_FLAGS:
        return [flag, draw(st.sampled_from(files + HOSTILE_TEXT[:6]))]
    pool = HOSTILE_NUMBERS if kind == "number" else HOSTILE_TEXT
    if not slow:
        pool = pool + (ORDINARY_NUMBERS if kind == "number" else ["json", "table", "f16"])
    return [flag, draw(st.sampled_from(pool) | st.text(max_size=20))]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help and --version only
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


def test_every_json_writer_refuses_nan_and_infinity():
    """json.dump(s) in the engine, the command line and the benchmarks: allow_nan=False."""
    root = Path(__file__).resolve().parent.parent
    loose = []
    for folder in ("catalog", "sizing", "advisor", "report", "rigfit", "benchmarks"):
        for path in sorted((root / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("dump", "dumps")
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "json"
                        and not any(k.arg == "allow_nan" and isinstance(k.value, ast.Constant)
                                    and k.value.value is False for k in node.keywords)):
                    loose.append(f"{folder}/{path.name}:{node.lineno}")
    assert loose == []


def test_every_command_has_a_valid_invocation_to_spoil():
    assert set(BASE) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_flags_exit_0_or_2_with_one_line(command, hostile_files, tmp_path, monkeypatch):
    for name, value in NO_NETWORK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RIGFIT_CACHE_DIR", str(tmp_path / "cache"))
    flags = _flags(command)
    slow = command in SLOW
    output = ["-o", str(tmp_path / "report.html")] if command == "report" else []

    @settings(max_examples=fuzz_examples(EXAMPLES.get(command, 50)), deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        chosen = data.draw(st.lists(st.sampled_from(flags), min_size=1, max_size=3,
                                    unique_by=lambda f: f[0]))
        spoiled = [v for flag, kind in chosen
                   for v in _value(data.draw, flag, kind, slow, hostile_files)]
        fmt = data.draw(st.sampled_from(["json", "table"])) if "--format" in dict(flags) \
            and command != "report" else None
        argv = [command, *BASE[command], *output, *spoiled,
                *(["--format", fmt] if fmt and "--format" not in spoiled else [])]
        code, out, err = _run(argv)
        shown = [a[:100] for a in argv]
        assert code in (0, 2), (shown, code, err[-2000:])
        if code == 2:
            assert err.startswith("error: ") and err.count("\n") == 1, (shown, err[-2000:])
            assert len(err) < 1200, (shown, err[:1200])
            assert out == ""
        elif "--requests" in spoiled:
            for row in out.splitlines():  # JSONL: one document a line
                _strict_json(row)
        elif fmt == "json" and "--format" not in spoiled:
            _strict_json(out)

    check()


def _text_flags() -> list[tuple[str, str]]:
    return [(command, flag) for command in sorted(COMMANDS) for flag, kind in _flags(command)
            if kind in ("text", "choice")]


@pytest.mark.parametrize(("command", "flag"), _text_flags())
def test_a_long_value_for_any_text_flag_is_echoed_cut(command, flag, tmp_path, monkeypatch):
    """Every text flag of every command: a 100,000-character value with a terminal escape."""
    for name, value in NO_NETWORK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RIGFIT_CACHE_DIR", str(tmp_path / "cache"))
    output = ["-o", str(tmp_path / "report.html")] if command == "report" else []
    code, out, err = _run([command, *BASE[command], *output, flag, "\x1b[2J" + "y" * 100_000])
    assert code in (0, 2)  # 0: a flag that only matters beside another (serve --draft-model)
    assert err.count("\n") == code // 2 and (code == 0 or out == "")
    assert len(err) < 1200 and "\x1b" not in err, err[:1200]


# --- A JSONL batch ------------------------------------------------------------------------

GOOD = [b'{"model": "llama-3.1-8b"}', b'{"params_b": 7, "batch": 2}',
        b'{"model": "qwen3-30b-a3b", "gpu": "rtx-3090", "context_tokens": 8192}']
BAD = [b"[" * 100_000, b"{" * 5000, b"\xff\xfe\xfd", b'{"model": "llama-3.1-8b"} \xc3',
       b"not json", b"[1, 2]", b'"text"', b"null", b'{"model": "llama-3.1-8b", "batch": true}',
       b'{"params_b": 1e400}', b'{"params_b": NaN}', b'{"params_b": Infinity}',
       b'{"model": "llama-3.1-8b", "batch": ' + b"9" * 5000 + b"}",
       b'{"model": "llama-3.1-8b", "prompt_tokens": ' + b"9" * 400 + b"}",
       b'{"model": "\x1b[31m' + b"x" * 10_000 + b'"}', b'{"model": "a\\u2028b"}',
       b'{"gpu": [[[[[[[[[[]]]]]]]]]], "model": "llama-3.1-8b"}', b'{"' + b"k" * 5000 + b'": 1}',
       b'{"model": "llama-3.1-8b", "hf_config": "/dev/zero"}', b"\x00", b"\r"]
BLANK = [b"", b"   ", b"\t", b"\r"]


@settings(max_examples=fuzz_examples(100), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(BAD) | st.sampled_from(BLANK) | st.binary(max_size=40)
                | st.sampled_from(GOOD).filter(lambda _: True), min_size=1, max_size=6))
def test_a_jsonl_batch_answers_each_line_with_its_number(tmp_path_factory, lines):
    path = Path(tmp_path_factory.mktemp("jsonl")) / "requests.jsonl"
    path.write_bytes(b"\n".join(lines))
    code, out, err = _run(["estimate", "--requests", str(path)])
    assert code == 0 and err == "", err[-500:]
    answered = [n for n, line in enumerate(b"\n".join(lines).split(b"\n"), start=1)
                if line.strip(b" \t\r")]
    answers = [_strict_json(row) for row in out.splitlines()]
    assert len(answers) == len(answered)
    for number, answer in zip(answered, answers):
        if "error" in answer:
            assert answer["error"].startswith(f"line {number}: "), answer
            assert "\n" not in answer["error"] and len(answer["error"]) < 1000
        else:
            assert answer["memory"]["total_bytes"] > 0


def test_good_lines_after_bad_ones_are_still_answered(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join([GOOD[0], b"[" * 100_000, b"\xff", GOOD[0]]))
    code, out, _ = _run(["estimate", "--requests", str(path)])
    rows = [json.loads(r) for r in out.splitlines()]
    assert code == 0 and len(rows) == 4
    assert rows[1] == {"error": "line 2: request is nested too deeply to be read",
                       "code": "json_too_deep"}
    assert rows[2] == {"error": "line 3: not UTF-8 text (byte 1)", "code": "not_utf8"}
    assert rows[0]["memory"] == rows[3]["memory"]


@pytest.mark.parametrize("path", ["/dev/zero", "sparse"])
def test_a_requests_file_past_its_limit_exits_2_before_any_line(path, tmp_path):
    if path == "sparse":
        path = str(tmp_path / "big.jsonl")
        with open(path, "wb") as handle:
            handle.truncate(2**30)
    code, out, err = _run(["estimate", "--requests", path])
    assert code == 2 and out == ""
    assert ("limit is 16 MiB" in err) or ("not a regular file" in err)


@pytest.mark.parametrize("argv,needle", [
    (["plan", "--model", "llama-3.1-8b", "--budget-usd", "inf"], "'inf' is not a finite number"),
    (["cloud", "--model", "llama-3.1-8b", "--hours-per-day", "nan"], "'nan' is not a finite"),
    (["estimate", "--model", "llama-3.1-8b", "--ambient-c", "1e400"], "'1e400' is not a finite"),
    (["estimate", "--model", "x" * 1_000_000], "unknown model 'xxxx"),
    # An empty value (an unset shell variable) is not the flag left out.
    (["estimate", "--model", "llama-3.1-8b", "--requests", ""], "--requests: the value is empty"),
    (["estimate", "--model", "llama-3.1-8b", "--region", " "], "--region: the value is empty"),
    # Whole numbers past any float: refused by their bound, not an OverflowError.
    (["plan", "--model", "llama-3.1-8b", "--budget-usd", "3000", "--users", "9" * 400],
     "users must be between 1 and 256 (got 999"),
    (["cloud", "--model", "llama-3.1-8b", "--context-tokens", "9" * 400],
     "context must be at most 10,000,000 tokens (got 999"),
    (["estimate", "--model", "llama-3.1-8b", "--batch", "9" * 5000], "is not a whole number"),
    (["report", "--model", "llama-3.1-8b", "--compare", "nope,rtx-4090", "--format", "html",
      "-o", "unused.html"], "unknown GPU 'nope'"),
    (["report", "--model", "llama-3.1-8b", "--currency", "XYZ", "--format", "html",
      "-o", "unused.html"], "unknown currency 'XYZ'"),
])
def test_refusals_name_the_problem_in_one_short_line(argv, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(argv)
    assert code == 2 and out == "" and needle in err
    assert err.count("\n") == 1 and len(err) < 400
    assert not (tmp_path / "unused.html").exists()
