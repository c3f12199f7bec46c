"""The command line's tables in both languages: Chinese with no English sentence left
over (names, ids and units aside), English worded as before."""

from __future__ import annotations

import re

import pytest

from rigfit.cli import main
from rigfit.terminal import format_table, padded, text_width
from tests.english_runs import english_runs
from tests.test_bench import PR_4766

# (command line, a Chinese word it must show, English lines it must show as regexes)
TABLES = {
    "estimate-offload": (
        ["estimate", "--model", "llama-3.1-70b", "--gpu", "rtx-4090", "--context-tokens", "8192"],
        "需卸载到内存才能运行",
        [r"verdict +fits-with-offload", r"decode +\d+\.\d tokens/s",
         r"offloaded +[\d.]+ GiB \(\d+ of 80 layers on GPU\)",
         r"electricity +\$\d+\.\d\d per 1M tokens", r"what would make it fit \(least given up first\):",
         r"  1\. .+ Decode about [\d.]+ tokens/s\."]),
    "estimate-fits": (
        ["estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-3090", "--quant", "q4_k_m"],
        "装得下",
        [r"verdict +fits", r"context +1,024 tokens x 1 sequence",
         r"model shape +32 layers, 32 heads, 8 KV heads of 128, max context 131,072",
         r"throttle risk +(low|medium|high)", r"energy +[\d.]+ Wh per 1k tokens"]),
    "estimate-agent": (
        ["estimate", "--model", "autoglm-phone-9b", "--gpu", "rtx-4090", "--workload", "agent"],
        "智能体上下文",
        [r"images +1 x 1080x2400 px \(resized \d+x\d+\) = [\d,]+ tokens each",
         r"vision encoder +[\d.]+ GiB, [\d.]+ s per image",
         r"agent step +[\d.]+ s per step, [\d.]+ steps per minute, 20-step task \d+ s",
         r"agent context +step 1: [\d,]+, step 5: .+ tokens \([\d,]+ of them the screenshot\)",
         r"screenshots that fit +\d+ in the longest context that fits, beside the text history"]),
    "plan-cny": (
        ["plan", "--model", "llama-3.1-70b", "--budget", "20000", "--region", "china",
         "--users", "4"],
        "经济型",
        [r"BUDGET \(STRETCH, over budget\): ¥38,773 \(\$5,461\)  Over budget by .+",
         r"  cpu-cooler  .+ ¥[\d,]+ \(\$\d+\)", r"CLOUD", r"CONSUMER VS PROFESSIONAL",
         r"money in CNY at 1 USD = 7\.1 CNY \(rate of .+",
         r"workload: Llama 3\.1 70B, quant best, 512 prompt \+ 512 new tokens within 8,192 "
         r"tokens of context, 4 users at >= 10 tokens/s each; budget ¥20,000 \(\$2,817\)",
         r"  checks: PCIe \d+/\d+ lanes .+, PSU \d+ W needed, .+, wall \d+/\d+ W"]),
    "plan-service": (
        ["plan", "--model", "llama-3.1-8b", "--budget-usd", "3000", "--ttft-p95-s", "2",
         "--users", "8"],
        "服务水平",
        [r"service level: p95 time to first token <= 2 s, p95 inter-token latency <= 100 ms "
         r"for 8 users with 30 s of think time; the per-user speed is not the test",
         r"BUDGET: \$\d+  Cheapest build that meets the workload: .+",
         r"  decode [\d.]+ tokens/s per user, prefill [\d,]+ tokens/s; \S+ on \S+ \((layer|tensor) split\)"]),
    "cloud-eur": (
        ["cloud", "--model", "llama-3.1-70b", "--region", "germany"],
        "回本（工作站型）",
        [r"provider +instance +gpus +quant +per_hour +tokens/s/user +per_1M_tokens +meets +"
         r"break-even budget +break-even balanced +break-even workstation",
         r"runpod +\S+ +\d+x \S+ +\S+ +€[\d.]+ +[\d.]+ +€[\d.]+ +yes +[\d.]+ mo .*"]),
    "serve-rate": (
        ["serve", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--users", "20",
         "--requests-per-minute", "30", "--usd-per-hour", "0.7", "--region", "germany"],
        "瓶颈为",
        [r"Llama 3\.1 8B bf16 on 1 x NVIDIA GeForce RTX 4090 with vllm: 512 prompt \+ 512 new "
         r"tokens per request",
         r"users at the target \(p95 TTFT <= 2 s, p95 ITL <= 100 ms, 30 s think time\): \d+",
         r"at 30 requests/min: [\d,]+ tokens/s generated, TTFT p50 [\d.]+ s / p95 [\d.]+ s, "
         r"ITL p50 [\d.]+ ms / p95 [\d.]+ ms; (meets|misses) the target; limited by \w+",
         r"requests per minute within the target: \d+",
         r"cost €[\d.]+ per million generated tokens \(\d+ W at €0\.384/kWh \+ 0\.7 USD/h\)",
         r"in flight +tokens/s +TTFT p95 s +ITL p95 ms"]),
    "serve-speculative": (
        ["serve", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--users", "10",
         "--speculative", "draft", "--draft-model", "llama-3.2-1b"],
        "推测生成",
        [r"speculative \(draft, 3 tokens, acceptance [\d.]+\): batch 1 x[\d.]+ \([\d.]+-[\d.]+\), .+",
         r"knee at \d+ requests in flight; KV pool [\d,]+ tokens \(\d+ requests\)"]),
    "serve-slots": (
        ["serve", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--users", "10", "--runtime",
         "llama.cpp", "--quant", "q4_k_m"],
        "并发槽位",
        [r"knee at \d+ requests in flight; \d+ slots?"]),
    "finetune-dataset": (
        ["finetune", "--model", "llama-3.1-8b", "--method", "qlora", "--gpu", "rtx-4090",
         "--dataset-tokens", "10000000"],
        "数据集用时",
        [r"method +qlora, rank 16 on all-linear; adamw, checkpointing on",
         r"batch +1 x 2,048 tokens, accumulate 1", r"verdict +fits",
         r"total / usable +[\d.]+ GiB / 24\.00 GiB per GPU",
         r"dataset time +\d+ h \d+ min \([\d,]+ steps\)",
         r"local cost +\$[\d.]+ electricity, [\d.]+ kWh",
         r"cloud best +\$[\d.]+ on \S+ \S+ \(.+, prices as of [\d-]+\)", r"cheaper +(local|cloud)",
         r"buying pays back +after [\d,]+ such runs \(\$[\d,]+ for the GPUs\)"]),
    "finetune-remedies": (
        ["finetune", "--model", "llama-3.1-8b", "--method", "full", "--gpu", "rtx-4090"],
        "每块 GPU",
        [r"verdict +does not fit", r"what would make it fit \(least given up first\):",
         r"  1\. Train LoRA adapters instead of every weight\. \([\d.]+ GiB per GPU\)"]),
    "fits": (
        ["fits", "--gpu", "rtx-4090"],
        "所有推理框架都跑不了",
        [r"1 x NVIDIA GeForce RTX 4090, 24 GiB; 32 GiB RAM; use chat \(512 prompt \+ 512 new tokens\)",
         r"model +quant +runtime +decode tok/s +prefill tok/s +max context +offload +quality +"
         r"board +AA index +meets floors",
         r"\S+ +\S+ +\S+ +[\d.,]+ +[\d,]+ +[\d,]+ +(yes|no) +([\d.,]+|unknown) +.+ +(yes|no) *",
         r"runs on none of the runtimes: .+"]),
    "gpus": (["gpus"], "消费级", [
        r"id +name +vendor +segment +architecture +memory_bytes +memory_bandwidth_gb_per_s +"
        r"dense_fp16_tflops +board_power_w +street_price_usd +memory_options_gib *",
        r"rtx-4090 +NVIDIA GeForce RTX 4090 +nvidia +consumer +ada-lovelace +25769803776 +1,008 +.*"]),
    "models": (["models"], "总参数量", [
        r"id +name +family +params_total +params_active +num_layers +num_kv_heads +head_dim +"
        r"max_context_tokens *"]),
    "quants": (["quants"], "每权重位数", [
        r"id +name +format +body_bits_per_weight +runtimes *"]),
    "runtimes": (["runtimes"], "按需分配", [r"id +name +apis +memory_policy *",
                                           r"vllm +.+ +preallocate *"]),
}


def _table(capsys, lang: str, argv: list[str]) -> str:
    assert main(["--lang", lang, *argv, "--format", "table"]) == 0
    out, err = capsys.readouterr()
    return out + err


@pytest.mark.parametrize("name", TABLES)
def test_the_chinese_table_has_no_english_sentence(capsys, name):
    argv, word, _ = TABLES[name]
    text = _table(capsys, "zh", argv)
    assert word in text
    runs = english_runs(text)
    assert not runs, "\n".join(runs)


@pytest.mark.parametrize("name", TABLES)
def test_the_english_table_keeps_its_words(capsys, name):
    argv, word, lines = TABLES[name]
    text = _table(capsys, "en", argv)
    assert word not in text
    for pattern in lines:
        assert re.search(f"^{pattern}$", text, re.MULTILINE), pattern


def test_the_benchmark_table_in_both_languages(tmp_path, capsys):
    path = tmp_path / "bench.md"
    path.write_text(PR_4766)
    argv = ["estimate", "--bench", str(path), "--model", "llama-3.1-8b"]
    chinese = _table(capsys, "zh", argv)
    assert "rtx-4090 上的基准测试：实测与预测的 tokens/s" in chinese
    assert re.search(r"^生成系数 +×0\.92（2 行的中位数）$", chinese, re.MULTILINE)
    assert not english_runs(chinese)
    english = _table(capsys, "en", argv)
    for pattern in (r"benchmark on rtx-4090: measured vs predicted tokens/s",
                    r"line +test +scenario +measured +predicted +ratio",
                    r"decode factor   x0\.92 \(median of 2 rows\)",
                    r"prefill factor  x0\.72 \(median of 3 rows\)",
                    r"link form       bench=d0\.922,p0\.719,rtx-4090"):
        assert re.search(f"^{pattern}$", english, re.MULTILINE), pattern


def test_a_large_number_in_a_table_is_written_out_not_in_e_notation():
    text = format_table([{"street_price_usd": 12_600.0, "tflops": 989.5}])
    assert "12,600" in text and "989.5" in text and "e+" not in text


def test_chinese_labels_line_up_by_terminal_columns():
    assert text_width("生成（低）") == 10
    assert padded("生成", 6) == "生成  "
    assert padded("decode", 8) == "decode  "
