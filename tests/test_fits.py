"""The reverse question: every model a machine runs, from the array engine, ranked.

The array forms (sizing.vector) are checked against the scalar engine row by
row on sampled rows of several machines; the ranking and the format choice
against hand-checked cases on an RTX 3060 12 GB.
"""

from __future__ import annotations

import numpy as np
import pytest

from catalog.catalog import load_catalog
from sizing.estimate import DEFAULT_RAM, default_split, memory_for, speed_for, with_images
from sizing.fit import max_context_tokens
from sizing.fits import (MIN_FAITHFUL_BITS_PER_WEIGHT, USE_SHAPES, FitsRequest, Quality,
                         evaluate_runtime, faithful, fits, image_tokens, listed_models,
                         parse_fits_request, quant_family_bits, resolve_machine)
from sizing.memory import estimate_memory
from sizing.request import EstimateRequest, RequestError, parse_request, resolve_model
from sizing.system import OS_RESERVE_GIB
from sizing.units import gib_to_bytes
from sizing.vision import encoder_activation_bytes, image_cost
from tests.test_model_files import write_llama

CAT = load_catalog()
REL = 1e-9  # the same formulas in another order of operations

# (gpu, count, memory size, runtime, use): single card and offload, a layer
# split, a tensor split, a preallocating runtime, an eager one, a Mac.
MACHINES = [
    ("rtx-3060-12gb", 1, None, "llama.cpp", "chat"),
    ("rtx-3090", 2, None, "llama.cpp", "code"),
    ("rtx-4090", 2, None, "vllm", "chat"),
    ("rtx-4090", 1, None, "transformers", "agent"),
    ("apple-m4-max-40c", 1, None, "mlx", "chat"),
    ("rtx-3060-12gb", 1, None, "ollama", "embed"),
    ("rtx-3060-12gb", 1, None, "llama.cpp", "vision"),
    ("rtx-4090", 2, None, "vllm", "vision"),
]


def _evaluated(gpu, count, memory_gib, runtime, use, ram_gib=32.0):
    request = FitsRequest(gpu=gpu, gpu_count=count, memory_gib=memory_gib, ram_gib=ram_gib,
                          runtimes=(runtime,), use=use)
    machine = resolve_machine(request, CAT)
    shape = USE_SHAPES[use]
    models = listed_models(CAT.models, use)
    return machine, shape, evaluate_runtime(CAT, machine, CAT.runtime(runtime), models, shape)


def _scalar_request(machine, shape, runtime, arch, quant, context):
    """The estimate's request for one row, its images added as the estimate adds them."""
    request = EstimateRequest(model=arch.id, quant=quant.id, gpu=machine.gpu.id,
                              gpu_count=machine.gpu_count, runtime=runtime,
                              prompt_tokens=shape.prompt_tokens, new_tokens=shape.new_tokens,
                              context_tokens=context, images=shape.images,
                              image_width=shape.image_width_px, image_height=shape.image_height_px)
    return with_images(request, arch)[0]


@pytest.mark.parametrize("machine_args", MACHINES, ids=lambda m: f"{m[0]}x{m[1]}-{m[3]}-{m[4]}")
def test_array_engine_agrees_with_the_scalar_engine_row_by_row(machine_args):
    machine, shape, ev = _evaluated(*machine_args)
    runtime = machine_args[3]
    rng = np.random.default_rng(19)
    rows = ev.rows
    sample = rng.choice(len(rows.model_index), size=min(25, len(rows.model_index)), replace=False)
    # Always include rows that run with offload and rows that do not run, when there are any.
    for mask in (ev.runs & ~ev.on_gpu, ~ev.runs):
        sample = np.union1d(sample, np.flatnonzero(mask)[:3])
    checked_speed = 0
    for i in sample:
        arch = rows.models.archs[rows.model_index[i]]
        quant = rows.quants.quants[rows.quant_index[i]]
        context = int(max(min(shape.context_tokens, arch.max_context_tokens),
                          shape.prompt_tokens + shape.new_tokens))
        request = _scalar_request(machine, shape, runtime, arch, quant, context)
        memory = memory_for(request, CAT, arch)
        assert bool(ev.on_gpu[i]) == memory.fits, (arch.id, quant.id)
        assert ev.memory.per_device_total_bytes[i] == pytest.approx(memory.per_device_total_bytes,
                                                                    rel=REL)
        assert ev.memory.gpu_layers[i] == memory.gpu_layers, (arch.id, quant.id)
        assert ev.memory.offloaded_bytes[i] == pytest.approx(memory.offloaded_bytes, rel=REL,
                                                             abs=1.0)
        budget = gib_to_bytes(32.0 - OS_RESERVE_GIB)
        runs = memory.fits or (CAT.runtime(runtime).supports_offload and memory.gpu_layers > 0
                               and memory.offloaded_bytes + memory.host_weights_bytes <= budget)
        assert bool(ev.runs[i]) == runs, (arch.id, quant.id)
        split = default_split(request, CAT)
        images = request.prompt_tokens - shape.prompt_tokens
        assert ev.image_tokens[i] == images, (arch.id, quant.id)
        if memory.fits and not images:
            expected_context = max_context_tokens(
                arch, quant, machine.gpu, CAT.runtime(runtime), gpu_count=machine.gpu_count,
                split=split, prompt_tokens=shape.prompt_tokens, new_tokens=shape.new_tokens)
            assert ev.max_context_tokens[i] == expected_context, (arch.id, quant.id)
        elif runs:  # the longest context, less the image tokens it holds
            assert ev.max_context_tokens[i] == _scalar_longest(
                arch, quant, machine, runtime, request, split,
                budget if not memory.fits else -1.0) - images, (arch.id, quant.id)
        if not runs:
            continue
        speed = speed_for(request, CAT, arch, memory)
        for key, got in (("decode_tokens_per_s", ev.decode[i]),
                         ("decode_tokens_per_s_low", ev.decode_low[i]),
                         ("decode_tokens_per_s_high", ev.decode_high[i]),
                         ("prefill_tokens_per_s", ev.prefill[i]),
                         ("prefill_tokens_per_s_low", ev.prefill_low[i]),
                         ("prefill_tokens_per_s_high", ev.prefill_high[i])):
            expected = getattr(speed, key)
            if expected is None:
                assert np.isnan(got), (arch.id, quant.id, key)
            else:
                assert got == pytest.approx(expected, rel=REL), (arch.id, quant.id, key)
        checked_speed += 1
    assert checked_speed >= 5


def _scalar_longest(arch, quant, machine, runtime, request, split, budget):
    """Longest context that runs (with offload within ``budget`` bytes of RAM; a negative
    budget: on the GPU alone), with the request's prompt and images, by the scalar
    engine's binary search."""
    rt = CAT.runtime(runtime)
    encoder = 0.0
    if request.images:
        encoder = encoder_activation_bytes(arch.vision, image_cost(
            arch.vision, request.image_width, request.image_height))

    def runs(context):
        m = estimate_memory(arch, quant, machine.gpu, rt, context_tokens=context,
                            prompt_tokens=min(context, request.prompt_tokens),
                            gpu_count=machine.gpu_count, split=split,
                            new_tokens=request.new_tokens, encoder_activation_bytes=encoder)
        return m.fits or (m.gpu_layers > 0 and m.offloaded_bytes + m.host_weights_bytes <= budget)

    high = arch.max_context_tokens
    if not runs(1):
        return 0
    if runs(high):
        return high
    low = 1
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if runs(mid) else (low, mid)
    return low


# --- hand-checked cases: RTX 3060 12 GB, 32 GB RAM, llama.cpp ----------------------------


@pytest.fixture(scope="module")
def rtx_3060():
    request = parse_fits_request({"gpu": "rtx-3060-12gb", "ram_gib": 32,
                                  "runtimes": ("llama.cpp",)})
    return {r.model: r for r in fits(request, CAT).rows}


def test_a_14b_model_runs_on_the_3060_at_4_bits_on_the_gpu(rtx_3060):
    # Qwen2.5-14B: Q4_K_M weights 14.8e9 x 4.8 / 8 = 8.9 GB (8.3 GiB) and an 8K f16
    # cache of 1.5 GiB fit 12 GiB; Q5_K_M (5.65 bits, 9.7 GiB of weights) does not.
    row = rtx_3060["qwen2.5-14b"]
    assert (row.quant, row.offload) == ("q4_k_m", False)
    # Decode is bound by 360 GB/s over ~9 GB read per token: under 40 tokens/s.
    assert 20 < row.decode_tokens_per_s < 40
    assert row.prefill_tokens_per_s > 300
    assert 8_192 <= row.max_context_tokens < 32_768


def test_7b_to_9b_models_fit_the_3060_without_offload(rtx_3060):
    for model in ("qwen2.5-7b", "llama-3.1-8b", "glm-4-9b"):
        assert not rtx_3060[model].offload, model
        assert rtx_3060[model].decode_tokens_per_s > 25, model


def test_32b_models_need_offload_on_the_3060(rtx_3060):
    # A 32B model in a faithful format is 17 GiB or more: only offload runs it.
    for model in ("qwen2.5-32b", "qwen3-32b", "deepseek-r1-distill-qwen-32b"):
        row = rtx_3060[model]
        assert row.offload and 0 < row.gpu_layers < row.num_layers, model
        assert row.faithful, model
        assert row.decode_tokens_per_s < 15, model


def test_q3_k_l_is_a_3_bit_format_under_the_faithful_floor(rtx_3060):
    # Q3_K_L stores 4.19 bits per weight (scales and some tensors at higher types),
    # but its blocks are 3-bit: it is not chosen over a 4-bit family that runs.
    q3_k_l, iq4_xs = CAT.quant("q3_k_l"), CAT.quant("iq4_xs")
    assert q3_k_l.body_bits_per_weight > MIN_FAITHFUL_BITS_PER_WEIGHT
    assert (quant_family_bits(q3_k_l), quant_family_bits(iq4_xs)) == (3.0, 4.0)
    assert not faithful(q3_k_l) and faithful(iq4_xs)
    # Qwen2.5-32B with offload: the smallest 4-bit family, IQ4_XS, not Q3_K_L.
    row = rtx_3060["qwen2.5-32b"]
    assert (row.quant, row.offload, row.faithful) == ("iq4_xs", True, True)


def test_the_seed_glm_models_are_answered(rtx_3060):
    for model in ("glm-4-9b", "autoglm-phone-9b"):
        row = rtx_3060[model]
        assert row.bits_per_weight >= 6 and not row.offload, model
        assert row.quality is None and row.quality_source is None  # none published


def test_models_too_large_for_gpu_and_ram_do_not_run():
    request = parse_fits_request({"gpu": "rtx-3060-12gb", "ram_gib": 32,
                                  "runtimes": ("llama.cpp",)})
    table = fits(request, CAT)
    assert {"deepseek-v3", "llama-3.1-405b", "kimi-k2-instruct"} <= set(table.not_running)
    assert not {"deepseek-v3", "llama-3.1-405b"} & {r.model for r in table.rows}


def test_more_ram_lets_more_models_run_with_offload():
    small = fits(parse_fits_request({"gpu": "rtx-3060-12gb", "ram_gib": 16,
                                     "runtimes": ("llama.cpp",)}), CAT)
    large = fits(parse_fits_request({"gpu": "rtx-3060-12gb", "ram_gib": 128,
                                     "runtimes": ("llama.cpp",)}), CAT)
    assert set(large.not_running) < set(small.not_running)
    in_small = next(r for r in small.rows if r.model == "llama-3.3-70b")
    in_large = next(r for r in large.rows if r.model == "llama-3.3-70b")
    # 16 GiB leaves 8 GiB of RAM: 70B only fits in a sub-4-bit format (IQ1/IQ2, 15-20 GiB);
    # 128 GiB holds a faithful one.
    assert not in_small.faithful
    assert in_large.faithful and in_large.offload


# --- floors and the format chosen --------------------------------------------------------


def test_a_decode_floor_chooses_a_smaller_format_that_meets_it(rtx_3060):
    fast = {r.model: r for r in fits(parse_fits_request(
        {"gpu": "rtx-3060-12gb", "ram_gib": 32, "runtimes": ("llama.cpp",),
         "min_decode_tokens_per_s": 45}), CAT).rows}
    assert rtx_3060["qwen2.5-7b"].quant == "q8_0" and rtx_3060["qwen2.5-7b"].decode_tokens_per_s < 45
    row = fast["qwen2.5-7b"]
    assert row.meets_floors and row.decode_tokens_per_s >= 45
    assert MIN_FAITHFUL_BITS_PER_WEIGHT <= row.bits_per_weight < 8.5


def test_a_context_floor_chooses_a_format_with_room_for_it(rtx_3060):
    long = {r.model: r for r in fits(parse_fits_request(
        {"gpu": "rtx-3060-12gb", "ram_gib": 32, "runtimes": ("llama.cpp",),
         "min_context_tokens": 32_768}), CAT).rows}
    assert rtx_3060["qwen2.5-14b"].max_context_tokens < 32_768
    row = long["qwen2.5-14b"]
    assert row.meets_floors and row.max_context_tokens >= 32_768
    assert row.bits_per_weight < rtx_3060["qwen2.5-14b"].bits_per_weight or row.offload
    # A model trained for 4K cannot meet a 32K floor in any format.
    assert not long["llama-2-7b"].meets_floors


def test_every_format_that_runs_is_listed_on_request():
    table = fits(parse_fits_request({"gpu": "rtx-3060-12gb", "runtimes": ("llama.cpp",),
                                     "all_quants": True}), CAT)
    quants = {r.quant for r in table.rows if r.model == "qwen2.5-7b"}
    assert {"q8_0", "q6_k", "q4_k_m", "q2_k"} <= quants and "f16" in quants  # f16 with offload


# --- the ranking ------------------------------------------------------------------------


def _ranked(**extra):
    data = {"gpu": "rtx-3060-12gb", "ram_gib": 32, "runtimes": ("llama.cpp",)} | extra
    quality = {"qwen2.5-7b": Quality(30.0, "test"), "qwen2.5-14b": Quality(40.0, "test"),
               "qwen2.5-32b": Quality(50.0, "test"), "llama-3.1-8b": Quality(10.0, "test")}
    return fits(parse_fits_request(data), CAT, quality=quality).rows


def test_best_known_quality_first_then_unknown_by_speed():
    rows = _ranked()
    assert [r.model for r in rows[:4]] == ["qwen2.5-32b", "qwen2.5-14b", "qwen2.5-7b",
                                           "llama-3.1-8b"]
    unknown = [r for r in rows[4:] if r.faithful]
    assert all(r.quality is None for r in rows[4:])
    speeds = [r.decode_tokens_per_s for r in unknown]
    assert speeds == sorted(speeds, reverse=True)


def test_rows_under_the_speed_floor_come_last():
    rows = _ranked(min_decode_tokens_per_s=20)
    meets = [r.meets_floors for r in rows]
    assert meets == sorted(meets, reverse=True)  # every True before every False
    # Offloaded, a faithful 32B decodes at ~6 tokens/s: the format that meets 20 is a
    # 2-bit one on the GPU, which ranks after every faithful row that meets the floor.
    assert [r.model for r in rows[:3]] == ["qwen2.5-14b", "qwen2.5-7b", "llama-3.1-8b"]
    small = next(i for i, r in enumerate(rows) if r.model == "qwen2.5-32b")
    assert rows[small].meets_floors and rows[small].decode_tokens_per_s >= 20
    assert not rows[small].faithful and not rows[small].offload
    in_faithful = [i for i, r in enumerate(rows) if r.meets_floors and r.faithful]
    assert small > max(in_faithful)


def test_unknown_quality_never_sorts_above_known_within_a_group():
    rows = _ranked(min_decode_tokens_per_s=10)
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r.meets_floors, r.faithful),
                          []).append(r.quality is None)
    for flags in groups.values():
        assert flags == sorted(flags)  # known (False) before unknown (True)


# --- uses --------------------------------------------------------------------------------


def test_embed_lists_only_encoders_with_no_decode_speed():
    table = fits(parse_fits_request({"gpu": "rtx-3060-12gb", "use": "embed",
                                     "runtimes": ("llama.cpp",)}), CAT)
    tasks = {CAT.model(r.model).task for r in table.rows}
    assert tasks <= {"embed", "rerank"} and table.rows
    assert all(r.decode_tokens_per_s is None and r.prefill_tokens_per_s for r in table.rows)


def test_vision_lists_only_vision_language_models():
    table = fits(parse_fits_request({"gpu": "rtx-4090", "use": "vision",
                                     "runtimes": ("llama.cpp",)}), CAT)
    assert table.rows and all(CAT.model(r.model).vision is not None for r in table.rows)
    assert "autoglm-phone-9b" in {r.model for r in table.rows}
    assert (table.images, table.image_width_px, table.image_height_px) == (1, 1024, 1024)
    assert all(r.image_tokens > 0 for r in table.rows)


def test_a_1024_px_image_costs_each_model_its_own_tokens():
    shape = USE_SHAPES["vision"]
    # Qwen2.5-VL: 14 px patches merged 2 x 2, sides rounded to 28 px: 1024 -> 37 x 28 = 1036 px,
    # (1036 / 14)^2 = 74^2 = 5,476 patches, one token per 4: 1,369.
    assert image_tokens(CAT.model("qwen2.5-vl-7b"), shape) == 74 ** 2 // 4 == 1369
    # Qwen3-VL: 16 px patches merged 2 x 2; 1024 is a multiple of 32: (1024 / 16)^2 / 4 = 1,024.
    assert image_tokens(CAT.model("qwen3-vl-8b"), shape) == (1024 // 16) ** 2 // 4 == 1024
    # InternVL3.5: a square image fills a 3 x 3 grid of 448 px tiles (at most 12), plus a
    # thumbnail: 10 tiles of 256 tokens.
    assert image_tokens(CAT.model("internvl3.5-8b"), shape) == (3 * 3 + 1) * 256
    assert image_tokens(CAT.model("qwen2.5-7b"), shape) == 0  # reads no images
    assert image_tokens(CAT.model("qwen2.5-vl-7b"), USE_SHAPES["chat"]) == 0


def test_a_vision_models_longest_context_drops_by_exactly_its_image_tokens():
    def row(use):
        table = fits(parse_fits_request({"gpu": "h100-sxm", "runtimes": ("llama.cpp",),
                                         "use": use}), CAT)
        return next(r for r in table.rows if r.model == "qwen2.5-vl-7b")

    chat, vision = row("chat"), row("vision")
    # 80 GB holds Qwen2.5-VL-7B's whole 128,000-token window either way: the image's
    # 1,369 tokens leave 126,631 for text.
    assert chat.quant == vision.quant and chat.max_context_tokens == 128_000
    assert (vision.image_tokens, vision.max_context_tokens) == (1369, 128_000 - 1369)
    # The image's tokens are prompt tokens too: processing them slows prefill per token.
    assert vision.prefill_tokens_per_s < chat.prefill_tokens_per_s


def test_the_agent_counts_one_phone_screenshot_at_the_presets_size():
    shape = USE_SHAPES["agent"]
    # The agent preset's own screen (sizing.workloads), not the 1024 x 1024 px default.
    assert (shape.images, shape.image_width_px, shape.image_height_px) == (1, 1080, 2400)
    # Qwen2.5-VL (and GLM-4.1V under AutoGLM-Phone): sides rounded to multiples of 28 px,
    # 1080 -> 39 x 28 = 1092, 2400 -> 86 x 28 = 2408: 78 x 172 patches of 14 px, one token
    # per 2 x 2: 3,354.
    assert image_tokens(CAT.model("qwen2.5-vl-7b"), shape) == 78 * 172 // 4 == 3354
    assert image_tokens(CAT.model("autoglm-phone-9b"), shape) == 3354
    # Qwen3-VL: multiples of 32 px, 1080 -> 34 x 32 = 1088, 2400 = 75 x 32: 68 x 150 patches
    # of 16 px, one token per 4: 2,550.
    assert image_tokens(CAT.model("qwen3-vl-8b"), shape) == 68 * 150 // 4 == 2550


def test_the_agent_lists_only_models_that_read_images():
    request = {"gpu": "rtx-4090", "runtimes": ("llama.cpp",)}
    agent = fits(parse_fits_request(request | {"use": "agent"}), CAT)
    chat = fits(parse_fits_request(request | {"use": "chat"}), CAT)
    assert agent.rows and all(CAT.model(r.model).vision is not None for r in agent.rows)
    assert "autoglm-phone-9b" in {r.model for r in agent.rows}
    # A text-only model that runs for a chat is neither ranked nor listed as not running.
    assert "qwen2.5-7b" in {r.model for r in chat.rows}
    assert "qwen2.5-7b" not in {r.model for r in agent.rows} | set(agent.not_running)
    assert (agent.images, agent.image_width_px, agent.image_height_px) == (1, 1080, 2400)
    assert all(r.image_tokens > 0 for r in agent.rows)


def test_a_vision_models_longest_context_drops_by_exactly_the_screenshots_tokens():
    def row(use, model):
        table = fits(parse_fits_request({"gpu": "h100-sxm", "runtimes": ("llama.cpp",),
                                         "use": use}), CAT)
        return next(r for r in table.rows if r.model == model)

    # 80 GB holds both models' whole windows: the screenshot's tokens leave the rest for text.
    for model, window, screenshot in (("qwen2.5-vl-7b", 128_000, 3354), ("qwen3-vl-8b", 262_144, 2550)):
        chat, agent = row("chat", model), row("agent", model)
        assert chat.quant == agent.quant and chat.max_context_tokens == window
        assert (agent.image_tokens, agent.max_context_tokens) == (screenshot, window - screenshot)


def test_code_sizes_a_longer_prompt_than_chat(rtx_3060):
    code = {r.model: r for r in fits(parse_fits_request(
        {"gpu": "rtx-3060-12gb", "use": "code", "runtimes": ("llama.cpp",)}), CAT).rows}
    # 16,000 prompt tokens: quadratic attention slows prompt processing.
    assert code["qwen2.5-7b"].prefill_tokens_per_s < rtx_3060["qwen2.5-7b"].prefill_tokens_per_s


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("data, words", [
    ({"gpu": "rtx-3060-12gb", "ram_gib": -1}, "ram_gib"),
    ({"gpu": "rtx-3060-12gb", "use": "dance"}, "use"),
    ({"gpu": "rtx-3060-12gb", "gpu_count": 0}, "gpu_count"),
    ({"gpu": "rtx-3060-12gb", "min_decode_tokens_per_s": float("nan")}, "min_decode"),
])
def test_bad_requests_name_the_field(data, words):
    with pytest.raises(RequestError, match=words):
        parse_fits_request(data)


def test_a_runtime_that_does_not_run_on_the_gpu_is_refused():
    with pytest.raises(RequestError, match="mlx.*does not run on"):
        fits(parse_fits_request({"gpu": "rtx-3060-12gb", "runtimes": ("mlx",)}), CAT)


def test_a_mac_cannot_be_several():
    with pytest.raises(RequestError, match="gpu_count must be 1"):
        fits(parse_fits_request({"gpu": "apple-m4-max-40c", "gpu_count": 2}), CAT)


def test_a_memory_size_the_machine_is_not_sold_in_is_refused():
    with pytest.raises(RequestError, match="memory_gib"):
        fits(parse_fits_request({"gpu": "rtx-3060-12gb", "memory_gib": 16}), CAT)


def test_default_ram_spec_is_the_estimates():
    machine = resolve_machine(FitsRequest(gpu="rtx-3060-12gb"), CAT)
    assert machine.ram_gb_per_s == pytest.approx(89.6)  # ddr5-5600 x 2 channels
    assert DEFAULT_RAM == "ddr5-5600x2"


def test_a_model_read_from_a_file_uses_its_exact_tensor_bytes(tmp_path):
    arch = resolve_model(parse_request({"gguf": str(write_llama(tmp_path / "t-Q4_K_M.gguf").path)}),
                         CAT)[0]
    machine = resolve_machine(FitsRequest(gpu="rtx-3060-12gb", runtimes=("llama.cpp",)), CAT)
    shape = USE_SHAPES["chat"]
    ev = evaluate_runtime(CAT, machine, CAT.runtime("llama.cpp"), [arch], shape)
    assert [ev.rows.quants.quants[i].id for i in ev.rows.quant_index] == ["q4_k_m"]
    context = max(min(shape.context_tokens, arch.max_context_tokens),
                  shape.prompt_tokens + shape.new_tokens)
    request = _scalar_request(machine, shape, "llama.cpp", arch, CAT.quant("q4_k_m"), context)
    memory = memory_for(request, CAT, arch)
    assert ev.memory.per_device_total_bytes[0] == pytest.approx(memory.per_device_total_bytes,
                                                                rel=REL)
    speed = speed_for(request, CAT, arch, memory)
    assert ev.decode[0] == pytest.approx(speed.decode_tokens_per_s, rel=REL)
    assert ev.prefill[0] == pytest.approx(speed.prefill_tokens_per_s, rel=REL)


def test_unified_memory_offloads_nothing_whatever_ram_is_given():
    table = fits(parse_fits_request({"gpu": "apple-m4-max-40c", "memory_gib": 64, "ram_gib": 512,
                                     "runtimes": ("llama.cpp",)}), CAT)
    assert table.unified and table.ram_gib == 0
    assert table.rows and not any(r.offload for r in table.rows)
    assert "llama-3.1-405b" in table.not_running
    discrete = fits(parse_fits_request({"gpu": "rtx-4090", "ram_gib": 512,
                                        "runtimes": ("llama.cpp",)}), CAT)
    assert not discrete.unified and any(r.offload for r in discrete.rows)
