"""The fine-tuning engine: hand-computed sizes and monotonic laws."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.catalog import load_catalog
from sizing.finetune import (CUDA_CONTEXT_GIB, NF4_DOUBLE_QUANT_BITS, FinetuneSetup, activation_bytes,
                             finetune_memory, lora_param_count, loss_bytes, optimizer_state_bytes,
                             trainable_param_count)
from sizing.finetune_time import finetune_time, training_flops_per_token
from sizing.finetune_fit import cheapest_method, largest_fitting, max_micro_batch, max_seq_len, remedies
from sizing.units import gib_to_bytes

CAT = load_catalog()
LLAMA_8B = CAT.model("llama-3.1-8b")
LLAMA_70B = CAT.model("llama-3.1-70b")
H100 = CAT.gpu("h100-sxm")
RTX_4090 = CAT.gpu("rtx-4090")

setups = st.builds(
    FinetuneSetup,
    optimizer=st.sampled_from(("adamw", "adamw-8bit", "paged-adamw-8bit", "adafactor", "sgd")),
    lora_rank=st.integers(1, 256),
    lora_targets=st.sampled_from(("attention", "all-linear")),
    dora=st.booleans(),
    seq_len=st.integers(1, 32_768),
    micro_batch=st.integers(1, 16),
    gradient_checkpointing=st.sampled_from(("on", "off", "offload")),
    gpu_count=st.integers(1, 8),
    sharding=st.sampled_from(("ddp", "fsdp", "zero2", "zero3")),
    precision=st.sampled_from(("mixed", "bf16")),
    loss=st.sampled_from(("standard", "chunked", "fused")),
)
models = st.sampled_from([CAT.model(i) for i in ("llama-3.1-8b", "llama-3.2-1b", "llama-3.1-70b")])


def _total(arch, setup, gpu=H100) -> float:
    return finetune_memory(arch, gpu, setup).total_bytes


# --- hand-computed cases ------------------------------------------------------------------

def test_adamw_states_of_an_8b_model_are_8_bytes_per_parameter():
    assert optimizer_state_bytes(trainable_params=8e9, optimizer="adamw") == 8e9 * 8
    assert optimizer_state_bytes(trainable_params=8e9, optimizer="adamw-8bit") == 8e9 * 2
    assert optimizer_state_bytes(trainable_params=8e9, optimizer="sgd") == 8e9 * 4
    # Pure bf16 keeps torch's AdamW moments in bf16: half.
    assert optimizer_state_bytes(trainable_params=8e9, optimizer="adamw", precision="bf16") == 8e9 * 4


def test_full_mixed_precision_is_zero_paper_16_bytes_per_parameter():
    # ZeRO (Rajbhandari et al. 2020): 2 (bf16 weights) + 2 (grads) + 12 (fp32 master + Adam).
    m = finetune_memory(LLAMA_8B, H100, FinetuneSetup(method="full", optimizer="adamw"))
    n = LLAMA_8B.params_total
    assert m.weights_bytes == n * 2
    assert m.gradients_bytes == n * 2
    assert m.master_weights_bytes == n * 4
    assert m.optimizer_bytes == n * 8
    assert m.trainable_params == n


def test_lora_rank_16_all_linear_on_llama_3_1_8b_counts_41_9m_adapters():
    # Per layer: q, o 16 x (4096 + 4096); k, v 16 x (4096 + 1024); gate, up, down
    # 16 x (4096 + 14336); 32 layers: 32 x 1,310,720 = 41,943,040.
    assert lora_param_count(LLAMA_8B, rank=16, targets="all-linear") == 41_943_040
    # Attention only: 32 x 16 x (2 x 8192 + 2 x 5120) = 13,631,488.
    assert lora_param_count(LLAMA_8B, rank=16, targets="attention") == 13_631_488
    # DoRA adds one magnitude per output row of every target.
    dora = lora_param_count(LLAMA_8B, rank=16, targets="attention", dora=True)
    assert dora - 13_631_488 == 32 * (4096 + 1024 + 1024 + 4096)


def test_qlora_base_weights_are_nf4_with_double_quant_and_bf16_tables():
    assert NF4_DOUBLE_QUANT_BITS == pytest.approx(4.127, abs=5e-4)  # QLoRA paper, section 3
    setup = FinetuneSetup(method="qlora", lora_rank=16, precision="mixed")
    m = finetune_memory(LLAMA_8B, H100, setup)
    tables = 2 * 128_256 * 4096  # embedding and untied head, not quantized
    adapters = 41_943_040 * 4  # fp32 adapters under mixed precision
    # Mixed precision follows PEFT's recipe: the unquantized tables in fp32.
    expected = (LLAMA_8B.params_total - tables) * 4.127 / 8 + tables * 4 + adapters
    assert m.weights_bytes == pytest.approx(expected, rel=1e-4)
    bf16 = finetune_memory(LLAMA_8B, H100, setup.with_(precision="bf16"))
    expected_bf16 = (LLAMA_8B.params_total - tables) * 4.127 / 8 + tables * 2 + adapters / 2
    assert bf16.weights_bytes == pytest.approx(expected_bf16, rel=1e-4)


def test_standard_loss_holds_16_bytes_per_logit():
    setup = FinetuneSetup(seq_len=2048, micro_batch=2, loss="standard")
    assert loss_bytes(LLAMA_8B, setup) == 4096 * 128_256 * 16
    assert loss_bytes(LLAMA_8B, setup.with_(loss="fused")) == 0


def test_checkpointing_keeps_one_hidden_vector_per_token_and_layer():
    on = FinetuneSetup(seq_len=1000, micro_batch=1, gradient_checkpointing="on", method="full")
    off = on.with_(gradient_checkpointing="off")
    device_on, _ = activation_bytes(LLAMA_8B, on)
    device_off, _ = activation_bytes(LLAMA_8B, off)
    one_layer = device_off / 32
    assert device_on == pytest.approx(32 * 1000 * 4096 * 2 + one_layer)
    # Offloaded checkpoints move to host memory.
    device_offload, host = activation_bytes(LLAMA_8B, on.with_(gradient_checkpointing="offload"))
    assert host == 32 * 1000 * 4096 * 2
    assert device_offload < device_on


def test_overhead_is_the_cuda_context():
    m = finetune_memory(LLAMA_8B, H100, FinetuneSetup())
    assert m.overhead_bytes == gib_to_bytes(CUDA_CONTEXT_GIB)


def test_full_flops_are_six_n_and_lora_four_n_per_token():
    full = FinetuneSetup(method="full", gradient_checkpointing="off", seq_len=1)
    lora = full.with_(method="lora")
    n = LLAMA_8B.params_total - 128_256 * 4096  # the embedding lookup does no matmul
    attention = 32 * 4 * 4096 * 1
    assert training_flops_per_token(LLAMA_8B, full)[0] == pytest.approx(6 * n + 3 * attention)
    assert training_flops_per_token(LLAMA_8B, lora)[0] == pytest.approx(4 * n + 3 * attention)
    # Checkpointing adds a forward's worth to the hardware FLOPs, not the model FLOPs.
    model, hardware = training_flops_per_token(LLAMA_8B, full.with_(gradient_checkpointing="on"))
    assert hardware - model == pytest.approx(2 * n + attention)


def test_step_time_is_flops_over_throughput_when_compute_bound():
    setup = FinetuneSetup(method="full", gpu_count=8, sharding="zero3", seq_len=4096)
    memory = finetune_memory(LLAMA_8B, H100, setup)
    time = finetune_time(LLAMA_8B, H100, setup, memory, dataset_tokens=1e9, epochs=2)
    _, hardware = training_flops_per_token(LLAMA_8B, setup)
    assert time.compute_bound
    compute = hardware * 4096 / (989.5e12 * 0.5)
    assert time.step_s == pytest.approx(compute, rel=0.05)  # plus the optimizer update
    assert time.tokens_per_s == pytest.approx(8 * 4096 / time.step_s)
    assert time.total_s == pytest.approx(2e9 / time.tokens_per_s)
    assert time.step_s_low < time.step_s < time.step_s_high


def test_paged_optimizer_spills_to_host_instead_of_failing():
    setup = FinetuneSetup(method="full", optimizer="paged-adamw-8bit", precision="bf16",
                          optimizer_in_backward=True, loss="chunked")
    on_4090 = finetune_memory(LLAMA_8B, RTX_4090, setup)
    plain = finetune_memory(LLAMA_8B, RTX_4090, setup.with_(optimizer="adamw-8bit"))
    assert on_4090.fits and not plain.fits
    assert on_4090.host_bytes > 0


def test_freezing_layers_and_embeddings_in_full_fine_tuning():
    tables = 2 * 128_256 * 4096
    body = LLAMA_8B.params_total - tables
    half = FinetuneSetup(method="full", frozen_layers=16)
    assert trainable_param_count(LLAMA_8B, half) == pytest.approx(body / 2 + tables)
    frozen = half.with_(frozen_layers=0, freeze_embeddings=True)
    assert trainable_param_count(LLAMA_8B, frozen) == pytest.approx(body)
    # The frozen bottom half saves no activations and runs no backward.
    act_all, _ = activation_bytes(LLAMA_8B, half.with_(frozen_layers=0, gradient_checkpointing="off"))
    act_half, _ = activation_bytes(LLAMA_8B, half.with_(gradient_checkpointing="off"))
    assert act_half == pytest.approx(act_all / 2)
    n = LLAMA_8B.params_total - 128_256 * 4096
    flops = training_flops_per_token(LLAMA_8B, half.with_(gradient_checkpointing="off", seq_len=1))[0]
    assert flops == pytest.approx((2 + 4 * 0.5) * n + (1 + 2 * 0.5) * 32 * 4 * 4096)
    with pytest.raises(ValueError, match="fewer than"):
        finetune_memory(LLAMA_8B, H100, half.with_(frozen_layers=32))
    with pytest.raises(ValueError, match="full fine-tuning"):
        FinetuneSetup(method="lora", freeze_embeddings=True)


@settings(max_examples=40, deadline=None)
@given(setup=setups, arch=models, frozen=st.integers(0, 14))
def test_freezing_more_layers_never_needs_more_memory(setup, arch, frozen):
    full = setup.with_(method="full", frozen_layers=frozen)
    assert _total(arch, full.with_(frozen_layers=frozen + 1)) <= _total(arch, full)


def test_bad_setups_raise_naming_the_field():
    with pytest.raises(ValueError, match="lora_rank"):
        FinetuneSetup(lora_rank=0)
    with pytest.raises(ValueError, match="method"):
        FinetuneSetup(method="prefix")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="parameters"):
        FinetuneSetup(offload="parameters", sharding="zero2")


# --- invariants ---------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(setup=setups, arch=models)
def test_qlora_needs_no_more_than_lora_and_lora_no_more_than_full(setup, arch):
    # DoRA is a LoRA variant with no full fine-tuning counterpart; its extra
    # activations can pass full fine-tuning's states at very long batches. A
    # paged optimizer's states leave the GPU when it is full, so its totals are
    # capped at the card, not ordered.
    setup = setup.with_(dora=False, optimizer="adamw" if setup.optimizer == "paged-adamw-8bit"
                        else setup.optimizer)
    qlora = _total(arch, setup.with_(method="qlora"))
    lora = _total(arch, setup.with_(method="lora"))
    full = _total(arch, setup.with_(method="full"))
    assert qlora <= lora <= full


@settings(max_examples=40, deadline=None)
@given(setup=setups, arch=models)
def test_dora_needs_more_than_lora(setup, arch):
    lora = setup.with_(method="lora", dora=False)
    assert _total(arch, lora) < _total(arch, lora.with_(dora=True))


@settings(max_examples=60, deadline=None)
@given(setup=setups, arch=models)
def test_checkpointing_lowers_activations(setup, arch):
    off = finetune_memory(arch, H100, setup.with_(gradient_checkpointing="off")).activations_bytes
    on = finetune_memory(arch, H100, setup.with_(gradient_checkpointing="on")).activations_bytes
    offload = finetune_memory(arch, H100, setup.with_(gradient_checkpointing="offload"))
    assert offload.activations_bytes <= on < off


@settings(max_examples=60, deadline=None)
@given(setup=setups, arch=models, more=st.integers(1, 4096))
def test_memory_grows_with_sequence_length(setup, arch, more):
    assert _total(arch, setup) < _total(arch, setup.with_(seq_len=setup.seq_len + more))


@settings(max_examples=60, deadline=None)
@given(setup=setups, arch=models, more=st.integers(1, 8))
def test_memory_grows_with_micro_batch(setup, arch, more):
    assert _total(arch, setup) < _total(arch, setup.with_(micro_batch=setup.micro_batch + more))


@settings(max_examples=60, deadline=None)
@given(setup=setups, arch=models, more=st.integers(1, 128))
def test_memory_grows_with_rank(setup, arch, more):
    for method in ("lora", "qlora"):
        low = setup.with_(method=method)
        assert _total(arch, low) < _total(arch, low.with_(lora_rank=setup.lora_rank + more))


@settings(max_examples=60, deadline=None)
@given(setup=setups, arch=models, count=st.integers(1, 15))
def test_zero3_memory_per_gpu_falls_with_gpu_count(setup, arch, count):
    fewer = setup.with_(sharding="zero3", gpu_count=count)
    assert _total(arch, fewer.with_(gpu_count=count + 1)) < _total(arch, fewer)


# --- what fits ----------------------------------------------------------------------------

def test_largest_micro_batch_and_sequence_fit_and_one_more_does_not():
    setup = FinetuneSetup(method="qlora", seq_len=2048)
    batch = max_micro_batch(LLAMA_8B, RTX_4090, setup)
    assert batch >= 1
    assert finetune_memory(LLAMA_8B, RTX_4090, setup.with_(micro_batch=batch)).fits
    assert not finetune_memory(LLAMA_8B, RTX_4090, setup.with_(micro_batch=batch + 1)).fits
    seq = max_seq_len(LLAMA_8B, RTX_4090, setup)
    assert finetune_memory(LLAMA_8B, RTX_4090, setup.with_(seq_len=seq)).fits
    assert not finetune_memory(LLAMA_8B, RTX_4090, setup.with_(seq_len=seq + 1)).fits


def test_fit_search_stays_within_the_setup_limits():
    # Freezing belongs to full fine-tuning: LoRA and QLoRA are tried without it.
    frozen = FinetuneSetup(method="full", frozen_layers=8, freeze_embeddings=True)
    assert cheapest_method(LLAMA_8B, RTX_4090, frozen) == "lora"
    assert {r.code for r in remedies(LLAMA_8B, RTX_4090, frozen)} >= {"ft_fix_lora", "ft_fix_qlora"}
    # Accumulation already at its largest: micro-batch 1 is not offered beyond it.
    big = FinetuneSetup(method="full", micro_batch=64, grad_accum=65_536)
    assert all(r.setup.grad_accum <= 65_536 for r in remedies(LLAMA_8B, RTX_4090, big))
    # A 10M-token context is searched only up to the longest sequence a setup takes.
    scout = next(m for m in CAT.models if m.max_context_tokens > 1_048_576)
    assert max_seq_len(scout, H100, FinetuneSetup(method="qlora", gpu_count=8,
                                                  sharding="zero3")) <= 1_048_576


def test_largest_fitting_bisects():
    assert largest_fitting(lambda n: n <= 1, high=10) == 1
    assert largest_fitting(lambda n: n <= 10, high=10) == 10
    assert largest_fitting(lambda n: n <= 777, high=4096) == 777


def test_cheapest_method_and_remedies_for_a_70b_on_one_4090():
    setup = FinetuneSetup(method="full", seq_len=2048)
    assert cheapest_method(LLAMA_8B, RTX_4090, setup) == "lora"
    assert cheapest_method(LLAMA_70B, RTX_4090, setup) is None
    found = remedies(LLAMA_8B, RTX_4090, setup)
    assert [r.code for r in found][:2] == ["ft_fix_lora", "ft_fix_qlora"]
    assert all(r.total_bytes <= gib_to_bytes(24) for r in found)
    gpus = [r for r in found if r.code == "ft_fix_more_gpus"]
    assert len(gpus) <= 1


def test_changes_are_combined_when_none_fits_alone():
    # QLoRA of an 8B model at 16,384 tokens on a 12 GiB card: no single change fits.
    gpu = CAT.gpu("rtx-3060-12gb")
    setup = FinetuneSetup(method="qlora", seq_len=16_384)
    assert not finetune_memory(LLAMA_8B, gpu, setup).fits
    first = remedies(LLAMA_8B, gpu, setup)[0]
    # A fused loss and offloaded checkpoints together; the 8-bit optimizer and
    # pure bf16 tried on the way are left out again, as the two suffice.
    assert first.code == "ft_fix_loss+ft_fix_offload_checkpoints"
    assert first.setup == setup.with_(loss="fused", gradient_checkpointing="offload")
    assert finetune_memory(LLAMA_8B, gpu, first.setup).fits
    for alone in (setup.with_(loss="fused"), setup.with_(gradient_checkpointing="offload")):
        assert not finetune_memory(LLAMA_8B, gpu, alone).fits
    assert first.total_bytes <= gib_to_bytes(12)
