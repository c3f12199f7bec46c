"""Calibrating with your own benchmark: llama-bench and Ollama output, factors, the CLI.

Every paste below is copied verbatim from a public GitHub thread or file (the
address is in the comment above it), so the parser is tested against what the
tools really print, not against what we think they print.
"""

# The pastes keep the tools' own line lengths.
# ruff: noqa: E501

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog
from catalog.errors import UserError
from rigfit.cli import main
from sizing.bench import (FACTOR_MAX, FACTOR_MIN, MAX_BENCH_BYTES, BenchCalibration, BenchError,
                          decode_bench_bytes, match_gpus, parse_bench, quant_of_description,
                          scenario_for)
from sizing.bench_calibrate import calibrate
from sizing.estimate import estimate
from sizing.request import parse_request

CAT = load_catalog()
GIB = 2**30

# https://github.com/ggml-org/llama.cpp/pull/4766 (comment by ggerganov, 2024-01-10):
# llama-bench on an RTX 4090, CUDA, the old "pp 512" test names.
PR_4766 = """\
ggml_init_cublas: GGML_CUDA_FORCE_MMQ:   no
ggml_init_cublas: CUDA_USE_TENSOR_CORES: yes
ggml_init_cublas: found 1 CUDA devices:
  Device 0: NVIDIA GeForce RTX 4090, compute capability 8.9, VMM: yes
| model                          |       size |     params | backend    | ngl | test       |              t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | ---------- | ---------------: |
| llama 7B F16                   |  12.55 GiB |     6.74 B | CUDA       |  99 | pp 512     | 11048.22 ± 269.74 |
| llama 7B F16                   |  12.55 GiB |     6.74 B | CUDA       |  99 | tg 128     |     61.03 ± 0.07 |
| llama 7B Q8_0                  |   6.67 GiB |     6.74 B | CUDA       |  99 | pp 512     | 7664.00 ± 108.83 |
| llama 7B Q8_0                  |   6.67 GiB |     6.74 B | CUDA       |  99 | tg 128     |     98.13 ± 0.07 |
| llama 7B Q4_0                  |   3.56 GiB |     6.74 B | CUDA       |  99 | pp 512     | 7979.85 ± 114.18 |
"""

# https://github.com/ggml-org/llama.cpp/pull/13096 (description, 2025-04-24): current test
# names with a prefilled context ("@ d512"); the paste does not name the GPU.
PR_13096 = """\
$ .\\llama-bench.exe -d 0,512

| model                          |       size |     params | backend    | ngl |            test |                  t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | --------------: | -------------------: |
| qwen2 7B Q4_K - Medium         |   4.36 GiB |     7.62 B | CUDA       |  99 |           pp512 |      7340.20 ± 23.45 |
| qwen2 7B Q4_K - Medium         |   4.36 GiB |     7.62 B | CUDA       |  99 |           tg128 |        120.60 ± 0.59 |
| qwen2 7B Q4_K - Medium         |   4.36 GiB |     7.62 B | CUDA       |  99 |    pp512 @ d512 |      6425.91 ± 18.88 |
| qwen2 7B Q4_K - Medium         |   4.36 GiB |     7.62 B | CUDA       |  99 |    tg128 @ d512 |        116.71 ± 0.60 |
"""

# https://github.com/geerlingguy/ai-benchmarks/issues/23 (description, 2025-09-22): an
# RX 7900 XT on a Raspberry Pi 5 over Vulkan, two Vulkan devices, a combined pp+tg test.
GEERLINGGUY_23 = """\
$ ./build/bin/llama-bench -m models/Qwen2.5-14B-Instruct-Q4_K_M.gguf -n 128 -p 512,4096 -pg 4096,128 -ngl 99 -r 2
ggml_vulkan: Found 2 Vulkan devices:
ggml_vulkan: 0 = AMD Radeon RX 7900 XT (RADV NAVI31) (radv) | uma: 0 | fp16: 1 | bf16: 0 | warp size: 64 | shared memory: 65536 | int dot: 0 | matrix cores: none
ggml_vulkan: 1 = V3D 7.1.10.2 (V3DV Mesa) | uma: 1 | fp16: 0 | bf16: 0 | warp size: 16 | shared memory: 16384 | int dot: 0 | matrix cores: none
build: 1d0125bc (6552)
```

| model                          |       size |     params | backend    | ngl |            test |                  t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | --------------: | -------------------: |
| qwen2 14B Q4_K - Medium        |   8.37 GiB |    14.77 B | Vulkan     |  99 |           pp512 |        335.63 ± 0.78 |
| qwen2 14B Q4_K - Medium        |   8.37 GiB |    14.77 B | Vulkan     |  99 |          pp4096 |         67.23 ± 0.28 |
| qwen2 14B Q4_K - Medium        |   8.37 GiB |    14.77 B | Vulkan     |  99 |           tg128 |          7.16 ± 0.15 |
| qwen2 14B Q4_K - Medium        |   8.37 GiB |    14.77 B | Vulkan     |  99 |    pp4096+tg128 |         65.65 ± 0.00 |
"""

# https://github.com/geerlingguy/ai-benchmarks/issues/46 (comment, 2025-12-18): CUDA on an
# RTX 2080 Ti with the fa and mmap columns llama-bench adds when they are not defaults.
GEERLINGGUY_46 = """\
$ build/bin/llama-bench -m models/llama-2-13b.Q4_K_M.gguf -fa 1 -n 128 -p 512,2048 -pg 2048,128 -ngl 99 -r 2 -mmp 0
ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no
ggml_cuda_init: GGML_CUDA_FORCE_CUBLAS: no
ggml_cuda_init: found 1 CUDA devices:
  Device 0: NVIDIA GeForce RTX 2080 Ti, compute capability 7.5, VMM: yes

build: f9ec8858e (7474)
```

| model                          |       size |     params | backend    | ngl | fa | mmap |            test |                  t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | -: | ---: | --------------: | -------------------: |
| llama 13B Q4_K - Medium        |   7.33 GiB |    13.02 B | CUDA       |  99 |  1 |    0 |           pp512 |       1493.64 ± 0.53 |
"""

# https://github.com/ggml-org/llama.cpp/blob/master/tools/llama-bench/README.md, "JSON": the
# output of build 8cf427ff (5163) on an RTX 4080 that PR #13096 put in the README.
README_JSON = """\
[
  {
    "build_commit": "8cf427ff",
    "build_number": 5163,
    "cpu_info": "AMD Ryzen 7 7800X3D 8-Core Processor",
    "gpu_info": "NVIDIA GeForce RTX 4080",
    "backends": "CUDA",
    "model_filename": "models/Qwen2.5-7B-Instruct-Q4_K_M.gguf",
    "model_type": "qwen2 7B Q4_K - Medium",
    "model_size": 4677120000,
    "model_n_params": 7615616512,
    "n_batch": 2048,
    "n_ubatch": 512,
    "n_threads": 8,
    "cpu_mask": "0x0",
    "cpu_strict": false,
    "poll": 50,
    "type_k": "f16",
    "type_v": "f16",
    "n_gpu_layers": 99,
    "split_mode": "layer",
    "main_gpu": 0,
    "no_kv_offload": false,
    "flash_attn": false,
    "tensor_split": "0.00",
    "use_mmap": true,
    "embeddings": false,
    "n_prompt": 512,
    "n_gen": 0,
    "n_depth": 0,
    "test_time": "2025-04-24T11:58:50Z",
    "avg_ns": 72135640,
    "stddev_ns": 1453752,
    "avg_ts": 7100.002165,
    "stddev_ts": 140.341520,
    "samples_ns": [ 74601900, 71632900, 71745200, 71952700, 70745500 ],
    "samples_ts": [ 6863.1, 7147.55, 7136.37, 7115.79, 7237.21 ]
  },
  {
    "build_commit": "8cf427ff",
    "build_number": 5163,
    "cpu_info": "AMD Ryzen 7 7800X3D 8-Core Processor",
    "gpu_info": "NVIDIA GeForce RTX 4080",
    "backends": "CUDA",
    "model_filename": "models/Qwen2.5-7B-Instruct-Q4_K_M.gguf",
    "model_type": "qwen2 7B Q4_K - Medium",
    "model_size": 4677120000,
    "model_n_params": 7615616512,
    "n_batch": 2048,
    "n_ubatch": 512,
    "n_threads": 8,
    "cpu_mask": "0x0",
    "cpu_strict": false,
    "poll": 50,
    "type_k": "f16",
    "type_v": "f16",
    "n_gpu_layers": 99,
    "split_mode": "layer",
    "main_gpu": 0,
    "no_kv_offload": false,
    "flash_attn": false,
    "tensor_split": "0.00",
    "use_mmap": true,
    "embeddings": false,
    "n_prompt": 0,
    "n_gen": 128,
    "n_depth": 0,
    "test_time": "2025-04-24T11:58:51Z",
    "avg_ns": 1076767880,
    "stddev_ns": 9449585,
    "avg_ts": 118.881588,
    "stddev_ts": 1.041811,
    "samples_ns": [ 1075361300, 1065089400, 1071761200, 1081934900, 1089692600 ],
    "samples_ts": [ 119.03, 120.178, 119.43, 118.307, 117.464 ]
  }
]
"""

# The same README, "JSONL" (-o jsonl): one object per line.
README_JSONL = """\
{"build_commit": "8cf427ff", "build_number": 5163, "cpu_info": "AMD Ryzen 7 7800X3D 8-Core Processor", "gpu_info": "NVIDIA GeForce RTX 4080", "backends": "CUDA", "model_filename": "models/Qwen2.5-7B-Instruct-Q4_K_M.gguf", "model_type": "qwen2 7B Q4_K - Medium", "model_size": 4677120000, "model_n_params": 7615616512, "n_batch": 2048, "n_ubatch": 512, "n_threads": 8, "cpu_mask": "0x0", "cpu_strict": false, "poll": 50, "type_k": "f16", "type_v": "f16", "n_gpu_layers": 99, "split_mode": "layer", "main_gpu": 0, "no_kv_offload": false, "flash_attn": false, "tensor_split": "0.00", "use_mmap": true, "embeddings": false, "n_prompt": 512, "n_gen": 0, "n_depth": 0, "test_time": "2025-04-24T11:59:33Z", "avg_ns": 70497220, "stddev_ns": 883196, "avg_ts": 7263.609157, "stddev_ts": 90.940578, "samples_ns": [ 71551000, 71222800, 70364100, 69439100, 69909100 ],"samples_ts": [ 7155.74, 7188.71, 7276.44, 7373.37, 7323.8 ]}
{"build_commit": "8cf427ff", "build_number": 5163, "cpu_info": "AMD Ryzen 7 7800X3D 8-Core Processor", "gpu_info": "NVIDIA GeForce RTX 4080", "backends": "CUDA", "model_filename": "models/Qwen2.5-7B-Instruct-Q4_K_M.gguf", "model_type": "qwen2 7B Q4_K - Medium", "model_size": 4677120000, "model_n_params": 7615616512, "n_batch": 2048, "n_ubatch": 512, "n_threads": 8, "cpu_mask": "0x0", "cpu_strict": false, "poll": 50, "type_k": "f16", "type_v": "f16", "n_gpu_layers": 99, "split_mode": "layer", "main_gpu": 0, "no_kv_offload": false, "flash_attn": false, "tensor_split": "0.00", "use_mmap": true, "embeddings": false, "n_prompt": 0, "n_gen": 128, "n_depth": 0, "test_time": "2025-04-24T11:59:33Z", "avg_ns": 1068078400, "stddev_ns": 6279455, "avg_ts": 119.844681, "stddev_ts": 0.699739, "samples_ns": [ 1066331700, 1064864900, 1079042600, 1063328400, 1066824400 ],"samples_ts": [ 120.038, 120.203, 118.624, 120.377, 119.982 ]}
"""

# https://github.com/ggml-org/llama.cpp/issues/15554: with -o json, llama-bench still prints
# the Vulkan device banner first (these two lines are from that issue).
VULKAN_BANNER_15554 = """\
ggml_vulkan: Found 1 Vulkan devices:
ggml_vulkan: 0 = AMD Radeon RX 580 Series (RADV POLARIS10) (radv) | uma: 0 | fp16: 0 | bf16: 0 | warp size: 64 | shared memory: 65536 | int dot: 0 | matrix cores: none
"""

# https://github.com/ollama/ollama/issues/1806 (comment by nejib1, 2024-01-06).
OLLAMA_1806 = """\
ollama run mistral --verbose
>>> hello
 Hello! How can I help you today? Is there a specific question or topic you'd like to discuss? I'm here
to provide information and answer any queries you may have. Let me know if there's something on your
mind, and I'll do my best to assist you. If you don't have a particular question, feel free to ask me
about anything that interests you, or just share some conversation starters if you'd like! I'm here to
make this interaction enjoyable and informative for you. So, what would you like to talk about?

total duration:       5.088275983s
load duration:        1.365523ms
prompt eval count:    11 token(s)
prompt eval duration: 204.563ms
prompt eval rate:     53.77 tokens/s
eval count:           120 token(s)
eval duration:        4.876787s
eval rate:            24.61 tokens/s
"""

# https://github.com/ollama/ollama/pull/12742 (description, 2025-10-22): two --verbose
# blocks with a 32k-token prompt; the paste does not say which model ran.
OLLAMA_12742 = """\
Before:
total duration:       31.273112939s
load duration:        4.97054657s
prompt eval count:    32768 token(s)
prompt eval duration: 235.137439ms
prompt eval rate:     139356.80 tokens/s
eval count:           1873 token(s)
eval duration:        18.173182374s
eval rate:            103.06 tokens/s

After:
total duration:       30.024798033s
load duration:        4.758588663s
prompt eval count:    32768 token(s)
prompt eval duration: 7.779621548s
prompt eval rate:     4212.03 tokens/s
eval count:           1769 token(s)
eval duration:        17.148014223s
eval rate:            103.16 tokens/s
"""

REAL_PASTES = [PR_4766, PR_13096, GEERLINGGUY_23, GEERLINGGUY_46, README_JSON, README_JSONL,
               OLLAMA_1806, OLLAMA_12742]


def rows_of(text: str) -> list[tuple]:
    return [(r.line, r.model, r.test, r.metric, r.prompt_tokens, r.new_tokens, r.depth_tokens,
             r.tokens_per_s, r.stddev_tokens_per_s) for r in parse_bench(text).rows]


# --------------------------------------------------------------------------- parsing


def test_llama_bench_markdown_old_test_names():
    run = parse_bench(PR_4766)
    assert run.formats == ["llama-bench markdown"]
    assert (run.gpu_name, run.gpu_count) == ("NVIDIA GeForce RTX 4090", 1)
    assert rows_of(PR_4766) == [
        (7, "llama 7B F16", "pp512", "prefill", 512, 0, 0, 11048.22, 269.74),
        (8, "llama 7B F16", "tg128", "decode", 0, 128, 0, 61.03, 0.07),
        (9, "llama 7B Q8_0", "pp512", "prefill", 512, 0, 0, 7664.00, 108.83),
        (10, "llama 7B Q8_0", "tg128", "decode", 0, 128, 0, 98.13, 0.07),
        (11, "llama 7B Q4_0", "pp512", "prefill", 512, 0, 0, 7979.85, 114.18),
    ]
    first = run.rows[0]
    assert first.size_bytes == pytest.approx(12.55 * GIB)
    assert first.params == pytest.approx(6.74e9)
    assert (first.backend, first.gpu_layers, first.source) == ("CUDA", 99, "llama-bench")


def test_llama_bench_markdown_with_depth():
    run = parse_bench(PR_13096)
    assert run.gpu_name is None
    assert rows_of(PR_13096) == [
        (5, "qwen2 7B Q4_K - Medium", "pp512", "prefill", 512, 0, 0, 7340.20, 23.45),
        (6, "qwen2 7B Q4_K - Medium", "tg128", "decode", 0, 128, 0, 120.60, 0.59),
        (7, "qwen2 7B Q4_K - Medium", "pp512 @ d512", "prefill", 512, 0, 512, 6425.91, 18.88),
        (8, "qwen2 7B Q4_K - Medium", "tg128 @ d512", "decode", 0, 128, 512, 116.71, 0.60),
    ]
    assert run.rows[0].size_bytes == pytest.approx(4.36 * GIB)


def test_llama_bench_markdown_vulkan_banner_and_combined_test():
    run = parse_bench(GEERLINGGUY_23)
    assert (run.gpu_name, run.gpu_count) == ("AMD Radeon RX 7900 XT", 1)
    assert match_gpus(run.gpu_name, CAT.gpus) == ["rx-7900-xt"]
    assert rows_of(GEERLINGGUY_23)[-1] == (
        13, "qwen2 14B Q4_K - Medium", "pp4096+tg128", "combined", 4096, 128, 0, 65.65, 0.0)
    assert [r.backend for r in run.rows] == ["Vulkan"] * 4


def test_llama_bench_markdown_extra_columns():
    run = parse_bench(GEERLINGGUY_46)
    assert run.gpu_name == "NVIDIA GeForce RTX 2080 Ti"
    assert rows_of(GEERLINGGUY_46) == [
        (12, "llama 13B Q4_K - Medium", "pp512", "prefill", 512, 0, 0, 1493.64, 0.53)]
    assert run.rows[0].params == pytest.approx(13.02e9)


def test_llama_bench_json():
    run = parse_bench(README_JSON)
    assert run.formats == ["llama-bench JSON"]
    assert (run.gpu_name, run.gpu_count) == ("NVIDIA GeForce RTX 4080", 1)
    assert rows_of(README_JSON) == [
        (2, "qwen2 7B Q4_K - Medium", "pp512", "prefill", 512, 0, 0, 7100.002165, 140.341520),
        (39, "qwen2 7B Q4_K - Medium", "tg128", "decode", 0, 128, 0, 118.881588, 1.041811),
    ]
    row = run.rows[1]
    assert (row.size_bytes, row.params, row.gpu_layers, row.backend, row.kv_cache) == (
        4677120000, 7615616512, 99, "CUDA", "f16")


def test_llama_bench_jsonl_and_json_after_a_device_banner():
    assert [r[7] for r in rows_of(README_JSONL)] == [7263.609157, 119.844681]
    assert [r[0] for r in rows_of(README_JSONL)] == [1, 2]
    run = parse_bench(VULKAN_BANNER_15554 + README_JSON)
    assert [r.line for r in run.rows] == [4, 41]
    assert run.gpu_name == "NVIDIA GeForce RTX 4080"  # llama-bench's own gpu_info names its rows


def test_ollama_verbose():
    run = parse_bench(OLLAMA_1806)
    assert run.formats == ["Ollama --verbose"]
    assert rows_of(OLLAMA_1806) == [
        (13, "mistral", "prompt eval", "prefill", 11, 0, 0, 53.77, None),
        (16, "mistral", "eval", "decode", 11, 120, 0, 24.61, None),
    ]
    decode = run.rows[1]
    assert scenario_for(decode, CAT, gpu="rtx-4090") == ({
        "gpu": "rtx-4090", "gpu_count": 1, "runtime": "ollama", "quant": "q4_k_m",
        "kv_cache": "f16", "prompt_tokens": 11, "new_tokens": 120, "model": "mistral-7b-v0.3"},
        None)
    data, why = scenario_for(run.rows[0], CAT, gpu="rtx-4090")
    assert data is None and "too short" in str(why) and why.code == "bench_row_short_prompt"


def test_ollama_blocks_without_a_model_use_the_given_one():
    assert rows_of(OLLAMA_12742) == [
        (6, None, "prompt eval", "prefill", 32768, 0, 0, 139356.80, None),
        (9, None, "eval", "decode", 32768, 1873, 0, 103.06, None),
        (16, None, "prompt eval", "prefill", 32768, 0, 0, 4212.03, None),
        (19, None, "eval", "decode", 32768, 1769, 0, 103.16, None),
    ]
    row = parse_bench(OLLAMA_12742).rows[3]
    assert scenario_for(row, CAT, gpu="rtx-4090")[0] is None
    data, _ = scenario_for(row, CAT, gpu="rtx-4090", model="llama-3.1-8b", quant="q8_0")
    assert (data["model"], data["quant"], data["runtime"]) == ("llama-3.1-8b", "q8_0", "ollama")


@pytest.mark.parametrize("description,quant", [
    ("llama 7B Q4_0", "q4_0"), ("llama 7B mostly Q4_0", "q4_0"), ("llama 7B F16", "f16"),
    ("qwen2 7B Q4_K - Medium", "q4_k_m"), ("llama 13B Q3_K - Small", "q3_k_s"),
    ("llama 8B Q2_K - Medium", "q2_k"), ("llama 8B IQ4_XS - 4.25 bpw", "iq4_xs"),
    ("llama 8B IQ3_S mix - 3.66 bpw", "iq3_m"), ("gpt-oss 20B MXFP4 MoE", "mxfp4"),
    ("llama 8B all F32", "f32"), ("llama 8B BF16", "bf16"), ("qwen3 8B Q8_0", "q8_0"),
])
def test_quant_from_the_model_column(description, quant):
    assert quant_of_description(description) == quant


def test_rows_map_to_catalog_models_by_parameter_count():
    run = parse_bench(PR_4766 + "\n" + GEERLINGGUY_23)
    data = [scenario_for(r, CAT, gpu="rtx-4090")[0] for r in run.rows]
    assert {d["model"] for d in data if d} == {"llama-2-7b", "qwen2.5-14b"}
    assert data[0]["runtime"] == "llama.cpp" and data[-2]["runtime"] == "llama.cpp-vulkan"
    assert data[-1] is None  # the pp4096+tg128 row


# --------------------------------------------------------------------------- bad pastes


@pytest.mark.parametrize("text,needle", [
    (PR_4766.replace("|  99 | tg 128     |     98.13", "|  99 | tg 128"), "line 10: 6 columns"),
    (PR_4766.replace("98.13 ± 0.07", "fast"), "line 10: cannot read t/s 'fast'"),
    (PR_4766.replace("tg 128     |     98.13", "gen 128    |     98.13"),
     "line 10: cannot read the test 'gen 128'"),
    (PR_4766.replace("| ------------------------------ | ---------: |", "| model | size |"),
     "line 6: expected the |---|---| line"),
    (README_JSON[:900], "llama-bench JSON could not be read"),
    (README_JSON.replace('"avg_ts": 118.881588', '"avg_ts": "fast"'),
     "line 39: 'avg_ts' must be a number"),
    (README_JSON.replace('"n_gen": 128', '"n_gen": -1'), "line 39: 'n_gen' must be a whole"),
    (OLLAMA_1806.replace("24.61 tokens/s", "quick"), "line 16: cannot read eval rate 'quick'"),
    (OLLAMA_1806.replace("120 token(s)", "many"), "line 14: cannot read eval count 'many'"),
    ("hello\nthis is not a benchmark\n", "line 1 ('hello'): no llama-bench table"),
    ("\n\n   \n", "the benchmark is empty"),
])
def test_bad_pastes_name_the_line(text, needle):
    with pytest.raises(BenchError, match=None) as info:
        parse_bench(text)
    assert needle in str(info.value), str(info.value)
    assert isinstance(info.value, UserError)


def test_the_size_bound():
    with pytest.raises(BenchError, match="larger than 1 MiB"):
        parse_bench("|" * (MAX_BENCH_BYTES + 1))
    with pytest.raises(BenchError, match="larger than 1 MiB"):
        decode_bench_bytes(b"x" * (MAX_BENCH_BYTES + 1))
    with pytest.raises(BenchError, match="line 2: .* not UTF-8"):
        decode_bench_bytes(b"ok\n\xff\xfe\n")
    assert decode_bench_bytes("\ufeff".encode() + PR_4766.encode()) == PR_4766


BENCH_LINES = [line for text in REAL_PASTES for line in text.splitlines()]
fragments = st.one_of(
    st.sampled_from(BENCH_LINES),
    st.sampled_from(BENCH_LINES).flatmap(lambda s: st.integers(0, len(s)).map(lambda i: s[:i])),
    st.text(max_size=80),
    st.sampled_from(["[", "{", "]", "}", '"avg_ts": 1', "| model | test | t/s |", "|---|---|---|",
                     "eval rate: 1e999 tokens/s", "prompt eval count: 99999999999 token(s)"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_arbitrary_text_raises_only_bench_error(text):
    try:
        run = parse_bench(text)
    except BenchError:
        return
    assert run.rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fragments, max_size=40))
def test_mangled_benchmarks_raise_only_bench_error(lines):
    try:
        run = parse_bench("\n".join(lines))
    except BenchError:
        return
    assert all(r.tokens_per_s > 0 and r.line >= 1 for r in run.rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fragments, max_size=30))
def test_calibrating_mangled_benchmarks_raises_only_user_errors(lines):
    try:
        calibrate(parse_bench("\n".join(lines)), CAT, gpu="rtx-4090")
    except UserError:
        pass


# --------------------------------------------------------------------------- calibration


def request(**fields):
    return parse_request({"gpu": "rtx-4090", "runtime": "llama.cpp", **fields})


def one_row(row: str) -> str:
    """PR 4766's banner and header with one of its rows."""
    head = PR_4766.splitlines()[:6]
    return "\n".join([*head, row]) + "\n"


Q8_TG128 = ("| llama 7B Q8_0                  |   6.67 GiB |     6.74 B | CUDA       |  99 "
            "| tg 128     |     98.13 ± 0.07 |")


def test_a_calibrated_tg128_row_reproduces_its_measurement():
    cal = calibrate(parse_bench(one_row(Q8_TG128)), CAT)
    assert (cal.gpu, cal.decode_rows, cal.prefill_rows, cal.prefill_factor) == ("rtx-4090", 1, 0, 1)
    [row] = cal.rows
    assert row.used and (row.model, row.quant, row.runtime) == ("llama-2-7b", "q8_0", "llama.cpp")
    assert row.ratio == pytest.approx(98.13 / row.predicted_tokens_per_s)
    same = request(model="llama-2-7b", quant="q8_0", prompt_tokens=0, new_tokens=128)
    before, after = estimate(same, CAT).speed, estimate(same, CAT, bench=cal).speed
    assert before.decode_tokens_per_s == pytest.approx(row.predicted_tokens_per_s)
    assert after.decode_tokens_per_s == pytest.approx(98.13, rel=0.01)
    assert abs(after.decode_tokens_per_s - 98.13) < abs(before.decode_tokens_per_s - 98.13)


def test_other_models_and_contexts_scale_by_the_same_factor_capped_by_speed_of_light():
    cal = calibrate(parse_bench(PR_4766), CAT)
    assert (cal.decode_rows, cal.prefill_rows) == (2, 3)
    ratios = sorted(r.ratio for r in cal.rows if r.metric == "prefill")
    assert cal.prefill_factor == pytest.approx(ratios[1])  # the median
    other = request(model="llama-3.1-8b", quant="q4_k_m", prompt_tokens=4096, new_tokens=256)
    plain, scaled = estimate(other, CAT), estimate(other, CAT, bench=cal)
    p, s = plain.speed, scaled.speed
    expected = min(p.decode_tokens_per_s * cal.decode_factor, p.decode_speed_of_light_tokens_per_s)
    assert s.decode_tokens_per_s == pytest.approx(expected)
    assert s.decode_tokens_per_s <= s.decode_speed_of_light_tokens_per_s
    assert s.decode_tokens_per_s_high <= s.decode_speed_of_light_tokens_per_s
    assert s.prefill_tokens_per_s == pytest.approx(p.prefill_tokens_per_s * cal.prefill_factor)
    assert s.prefill_tokens_per_s_low == pytest.approx(p.prefill_tokens_per_s_low * cal.prefill_factor)
    prefill_s = 4096 / p.prefill_tokens_per_s  # the times follow both speeds
    decode_ratio = s.decode_tokens_per_s / p.decode_tokens_per_s
    assert s.ttft_s == pytest.approx(prefill_s / cal.prefill_factor
                                     + (p.ttft_s - prefill_s) / decode_ratio)
    assert s.total_time_s == pytest.approx(prefill_s / cal.prefill_factor
                                           + (p.total_time_s - prefill_s) / decode_ratio)
    assert scaled.memory == plain.memory and scaled.fit == plain.fit
    codes = [n.code for n in scaled.warnings]
    assert "bench_calibrated" in codes and "bench_clamped" not in codes
    notice = next(n for n in scaled.warnings if n.code == "bench_calibrated")
    assert notice.params["decode_factor"] == f"{cal.decode_factor:.2f}"


def test_a_large_factor_stops_at_the_speed_of_light():
    cal = BenchCalibration(gpu="rtx-4090", decode_factor=FACTOR_MAX, prefill_factor=1.0)
    result = estimate(request(model="llama-3.1-8b"), CAT, bench=cal)
    s = result.speed
    assert s.decode_tokens_per_s == pytest.approx(s.decode_speed_of_light_tokens_per_s)
    assert s.decode_tokens_per_s_high == pytest.approx(s.decode_speed_of_light_tokens_per_s)
    assert "bench_speed_of_light" in [n.code for n in result.warnings]


def test_a_benchmark_far_from_the_prediction_is_clamped_and_says_so():
    cal = calibrate(parse_bench(GEERLINGGUY_23), CAT)
    assert cal.gpu == "rx-7900-xt"
    assert cal.decode_raw_factor < FACTOR_MIN and cal.decode_factor == FACTOR_MIN
    assert cal.decode_clamped
    notes = {r.test: r.note for r in cal.rows}
    assert "not one speed" in notes["pp4096+tg128"]
    result = estimate(request(model="qwen2.5-14b", gpu="rx-7900-xt", runtime="llama.cpp-vulkan"),
                      CAT, bench=cal)
    clamped = next(n for n in result.warnings if n.code == "bench_clamped")
    assert clamped.params["metric_term"] == "decode" and clamped.params["used"] == "0.20"


def test_a_calibration_for_another_gpu_is_not_applied():
    cal = calibrate(parse_bench(PR_13096), CAT, gpu="rtx-4080")
    assert [r.note for r in cal.rows if not r.used] == [
        "prefill after a filled context is not modelled"]
    other = request(model="qwen2.5-7b", gpu="rtx-3090")
    result = estimate(other, CAT, bench=cal)
    assert result.speed == estimate(other, CAT).speed
    assert [n.code for n in result.warnings if n.code.startswith("bench")] == ["bench_other_gpu"]


def test_partly_offloaded_rows_are_shown_but_not_used():
    partial = PR_4766.replace("|  99 | tg 128     |     61.03", "|  20 | tg 128     |     61.03")
    cal = calibrate(parse_bench(partial), CAT)
    row = next(r for r in cal.rows if r.line == 8)
    assert not row.used and row.note == "only 20 of 32 layers on the GPU (-ngl)"
    assert cal.decode_rows == 1


def test_a_paste_without_a_gpu_or_comparable_rows_is_refused():
    with pytest.raises(BenchError, match="does not name its GPU"):
        calibrate(parse_bench(PR_13096), CAT)
    cpu = PR_4766.replace("CUDA       |", "CPU        |")
    with pytest.raises(BenchError, match=r"line 7 \(pp512\): ran on the CPU"):
        calibrate(parse_bench(cpu), CAT)


# --------------------------------------------------------------------------- the link form


def test_query_round_trip_and_validation():
    cal = calibrate(parse_bench(PR_4766), CAT)
    back = BenchCalibration.from_query(cal.to_query())
    assert back.gpu == "rtx-4090" and back.rows == []
    assert back.decode_factor == pytest.approx(cal.decode_factor, rel=0.005)
    assert back.prefill_factor == pytest.approx(cal.prefill_factor, rel=0.005)
    assert BenchCalibration.from_query("d1.12,p1.35", gpu="rtx-4090").to_query() == (
        "d1.12,p1.35,rtx-4090")
    assert BenchCalibration.from_query("p0.9", gpu="rtx-3090").decode_factor == 1.0


@pytest.mark.parametrize("value,needle", [
    ("d5,p1,rtx-4090", "outside 0.2-3"), ("d0.1,rtx-4090", "outside 0.2-3"),
    ("dnan,rtx-4090", "is not dN, pN"), ("d1,d1.1,rtx-4090", "twice"),
    ("x1.2,rtx-4090", "is not dN, pN"), ("rtx-4090", "neither"), ("d1.1", "names no GPU"),
    ("d1.1,rtx-3090", "not rtx-4090"), ("", "must look like"), ("d1," * 50, "must look like"),
    ("d1.1,RTX 4090", "is not dN, pN"),
])
def test_bad_query_values(value, needle):
    with pytest.raises(BenchError, match=needle):
        BenchCalibration.from_query(value, gpu="rtx-4090" if value != "d1.1" else None)


@given(st.text(max_size=130))
def test_arbitrary_query_values_raise_only_bench_error(value):
    try:
        cal = BenchCalibration.from_query(value, gpu="rtx-4090")
    except BenchError:
        return
    assert FACTOR_MIN <= cal.decode_factor <= FACTOR_MAX
    assert FACTOR_MIN <= cal.prefill_factor <= FACTOR_MAX


# --------------------------------------------------------------------------- command line


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_has_a_bench_section(tmp_path, capsys):
    path = tmp_path / "bench.md"
    path.write_text(PR_4766)
    code, out, _ = run_cli(capsys, "estimate", "--bench", str(path), "--model", "llama-3.1-8b",
                           "--format", "json")
    result = json.loads(out)
    bench = result["bench"]
    assert code == 0 and result["gpu_id"] == "rtx-4090"  # the benchmark's GPU by default
    assert bench["gpu"] == "rtx-4090" and len(bench["rows"]) == 5
    assert bench["rows"][1]["measured_tokens_per_s"] == 61.03
    assert bench["rows"][1]["predicted_tokens_per_s"] > 0
    assert bench["query"] == BenchCalibration.model_validate(
        {k: bench[k] for k in ("gpu", "decode_factor", "prefill_factor")}).to_query()
    assert "bench_calibrated" in [w["code"] for w in result["warnings"]]


def test_cli_table_shows_measured_against_predicted(tmp_path, capsys):
    path = tmp_path / "ollama.txt"
    path.write_text(OLLAMA_1806)
    code, out, _ = run_cli(capsys, "estimate", "--bench", str(path), "--gpu", "rtx-3060-12gb",
                           "--model", "mistral-7b-v0.3")
    assert code == 0
    assert "measured vs predicted" in out and "mistral-7b-v0.3 q4_k_m ollama" in out
    assert "too short to time prefill" in out
    assert "decode factor" in out and "prefill factor  x1.00 (no prefill rows" in out
    assert "bench=d" in out and "warning: Rescaled with your benchmark" in out


def test_cli_bench_applies_to_each_jsonl_request(tmp_path, capsys):
    bench, requests = tmp_path / "bench.json", tmp_path / "requests.jsonl"
    bench.write_text(README_JSON)
    requests.write_text('{"model": "qwen2.5-7b", "gpu": "rtx-4080"}\n{"model": "nope"}\n')
    code, out, _ = run_cli(capsys, "estimate", "--bench", str(bench), "--requests", str(requests))
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0 and first["bench"]["gpu"] == "rtx-4080" and "error" in second


@pytest.mark.parametrize("content,needle", [
    (None, "cannot read benchmark file"),
    (b"x" * (3 * MAX_BENCH_BYTES), "is 3 MiB; the limit is 1 MiB"),
    (b"| model | test | t/s |\n|---|---|---|\n| llama 7B Q4_0 | tg 128 | ??? |\n",
     "line 3: cannot read t/s"),
    (b"\xff\xfe", "line 1: benchmark file"),
])
def test_cli_bad_bench_files_exit_2_with_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "bench.txt"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run_cli(capsys, "estimate", "--bench", str(path), "--gpu", "rtx-4090")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err


def test_why_a_row_was_not_used_reads_in_both_languages(capsys):
    """Each reason carries a code: the sidebar's table and the command line say it in Chinese."""
    from report.text import translate_notice
    partial = PR_4766.replace("|  99 | tg 128     |     61.03", "|  20 | tg 128     |     61.03")
    reasons = {r.line: r.reason for r in calibrate(parse_bench(partial), CAT).rows if not r.used}
    assert reasons[8].code == "bench_row_partial" and reasons[8].params == {"gpu_layers": 20,
                                                                            "layers": 32}
    assert translate_notice(reasons[8], "en") == "only 20 of 32 layers on the GPU (-ngl)"
    assert translate_notice(reasons[8], "zh") == "GPU 上只有 32 层中的 20 层（-ngl）"
    cal = calibrate(parse_bench(GEERLINGGUY_23), CAT)
    combined = next(r for r in cal.rows if r.test == "pp4096+tg128")
    assert combined.note == "prompt + generation test: not one speed"
    assert translate_notice(combined.reason, "zh") == "提示处理与生成合测：不是单一速度"
    path_rows = [r.reason.code for r in cal.rows if not r.used]
    assert "text" not in path_rows


def test_the_chinese_benchmark_table_says_why_in_chinese(tmp_path, capsys):
    partial = PR_4766.replace("|  99 | tg 128     |     61.03", "|  20 | tg 128     |     61.03")
    path = tmp_path / "bench.md"
    path.write_text(partial)
    assert main(["--lang", "zh", "estimate", "--bench", str(path), "--model", "llama-3.1-8b"]) == 0
    out = capsys.readouterr().out
    assert "未采用：GPU 上只有 32 层中的 20 层（-ngl）" in out and "layers on the GPU" not in out
