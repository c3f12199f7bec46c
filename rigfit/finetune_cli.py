"""``rigfit finetune``: will a model fine-tune on these GPUs, how long, and is renting cheaper.

JSON output: ``memory`` {weights_bytes, trainable_params, gradients_bytes,
optimizer_bytes, activations_bytes, overhead_bytes, total_bytes,
usable_bytes, fits, ...}, ``time`` {step_s, tokens_per_s, total_s, ...},
``cost`` {local_usd, cloud_usd_best, ...}, then ``fit``, ``remedies`` and
``warnings``. Memory is per GPU.
"""

from __future__ import annotations

import argparse
from typing import Any

from advisor.finetune import FinetuneResult, finetune_plan
from catalog.catalog import Catalog
from advisor.region import RegionTerms
from report.formats import duration_text, gib_text, number_text, usd_in_currency_text
from rigfit.cost_flags import add_cost_flags, cost_terms
from rigfit.terminal import json_text
from sizing.finetune_request import CHOICES, parse_finetune_request


def add_arguments(p: argparse.ArgumentParser) -> None:
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", help="catalog model id")
    model.add_argument("--hf-config", help="path to a Hugging Face config.json")
    model.add_argument("--hf-id", help="Hugging Face repository ORG/NAME (reads its config.json)")
    model.add_argument("--params-b", type=float, help="bare parameter count in billions")
    p.add_argument("--revision", help="with --hf-id: branch, tag or commit (default main)")
    p.add_argument("--method", choices=CHOICES["method"], required=True,
                   help="full fine-tuning, LoRA, or QLoRA (4-bit NF4 base, double quantization)")
    p.add_argument("--gpu", required=True, help="GPU id")
    p.add_argument("--gpu-count", type=int, help="number of identical GPUs (default 1)")
    p.add_argument("--sharding", choices=CHOICES["sharding"],
                   help="how several GPUs split the model states (default ddp: replicated)")
    p.add_argument("--optimizer", choices=CHOICES["optimizer"], help="optimizer (default adamw)")
    p.add_argument("--lora-rank", type=int, help="LoRA rank (default 16)")
    p.add_argument("--lora-targets", choices=CHOICES["lora_targets"],
                   help="layers that get adapters (default all-linear)")
    p.add_argument("--dora", action="store_true", default=None,
                   help="DoRA: adapters plus a magnitude vector per target")
    p.add_argument("--seq-len", type=int, help="tokens per sequence (default 2048)")
    p.add_argument("--micro-batch", type=int, help="sequences per GPU per pass (default 1)")
    p.add_argument("--grad-accum", type=int, help="micro-batches per optimizer step (default 1)")
    p.add_argument("--gradient-checkpointing", choices=CHOICES["gradient_checkpointing"],
                   help="recompute activations (on, default), keep them (off), or keep the "
                        "checkpoints in system RAM (offload, Unsloth-style)")
    p.add_argument("--offload", choices=CHOICES["offload"],
                   help="move optimizer states (optimizer) or also weights (parameters, with "
                        "fsdp/zero3) to system RAM")
    p.add_argument("--precision", choices=CHOICES["precision"],
                   help="mixed (bf16 compute, fp32 master weights; default) or pure bf16")
    p.add_argument("--loss", choices=CHOICES["loss"],
                   help="cross-entropy kernel: standard (default), chunked (torchtune) or "
                        "fused (Unsloth, Liger)")
    p.add_argument("--optimizer-in-backward", action="store_true", default=None,
                   help="step each layer during backward (no gradient buffer; grad-accum 1)")
    p.add_argument("--frozen-layers", type=int,
                   help="with --method full: bottom layers left frozen (no gradients, no saved "
                        "activations)")
    p.add_argument("--freeze-embeddings", action="store_true", default=None,
                   help="with --method full: leave the embedding and output head frozen")
    p.add_argument("--dataset-tokens", type=float, help="tokens in the training set")
    p.add_argument("--epochs", type=float, help="passes over the dataset (default 1)")
    p.add_argument("--system-ram-gib", type=float, help="system RAM, to check offload [GiB]")
    p.add_argument("--electricity-usd-per-kwh", type=float, help="electricity price [USD/kWh]")
    add_cost_flags(p)
    p.add_argument("--format", choices=("json", "table"), default="table")


REQUEST_KEYS = ("model", "hf_config", "hf_id", "params_b", "revision", "method", "gpu",
                "gpu_count", "sharding", "optimizer", "lora_rank", "lora_targets", "dora",
                "seq_len", "micro_batch", "grad_accum", "gradient_checkpointing", "offload",
                "precision", "loss", "optimizer_in_backward", "frozen_layers", "freeze_embeddings",
                "dataset_tokens", "epochs",
                "system_ram_gib", "electricity_usd_per_kwh")


def request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in REQUEST_KEYS if getattr(args, k, None) is not None}


def finetune_table(result: FinetuneResult, terms: RegionTerms | None = None) -> str:
    """The answer as aligned lines for a terminal; money in ``terms``' currency."""
    m, t, c, f = result.memory, result.time, result.cost, result.fit
    currency, units = (terms.currency, terms.units_per_usd) if terms else ("USD", 1.0)

    def money(usd: float | None, digits: int = 0) -> str:
        return usd_in_currency_text(usd, currency, units, digits=digits)

    s = result.setup
    method = str(s["method"]) + (f", rank {s['lora_rank']} on {s['lora_targets']}"
                                 if s["method"] != "full" else "")
    rows = [
        ("model", f"{result.model.name} ({result.model.params_total / 1e9:.2f}B)"),
        ("gpu", f"{result.gpu_count} x {result.gpu_name}, {result.gpu_memory_gib:g} GiB, "
                f"{s['sharding']}"),
        ("method", f"{method}; {s['optimizer']}, checkpointing {s['gradient_checkpointing']}"),
        ("batch", f"{s['micro_batch']} x {s['seq_len']:,} tokens, accumulate {s['grad_accum']}"),
        ("verdict", "fits" if m.fits else "does not fit"),
        ("weights", gib_text(m.weights_bytes, 2)),
        ("trainable", f"{m.trainable_params / 1e6:,.1f} M parameters"),
        ("gradients", gib_text(m.gradients_bytes, 2)),
        ("master weights", gib_text(m.master_weights_bytes, 2)),
        ("optimizer", gib_text(m.optimizer_bytes, 2)),
        ("activations", gib_text(m.activations_bytes, 2)),
        ("overhead", gib_text(m.overhead_bytes, 2)),
        ("total / usable", f"{gib_text(m.total_bytes, 2)} / {gib_text(m.usable_bytes, 2)} per GPU"),
    ]
    if m.host_bytes:
        rows.append(("system RAM", gib_text(m.host_bytes, 1)))
    rows += [
        ("step", f"{number_text(t.step_s, 2)} s ({number_text(t.step_s_low, 2)}-"
                 f"{number_text(t.step_s_high, 2)})"),
        ("throughput", f"{number_text(t.tokens_per_s, 0)} tokens/s"),
        ("max micro-batch", f"{f.max_micro_batch} at {s['seq_len']:,} tokens"),
        ("max sequence", f"{f.max_seq_len:,} tokens at micro-batch {s['micro_batch']}"),
        ("cheapest method", f.cheapest_method or "none fits"),
    ]
    if t.total_s is not None:
        rows += [("dataset time", f"{duration_text(t.total_s)} ({t.steps:,} steps)"),
                 ("local cost", "does not fit" if c.local_usd is None else
                  f"{money(c.local_usd, 2)} electricity, "
                  f"{number_text(c.energy_kwh, 1)} kWh"),
                 ("cloud best", "none holds it" if c.cloud_usd_best is None else
                  f"{money(c.cloud_usd_best, 2)} on {c.cloud_provider} "
                  f"{c.cloud_instance} "
                  f"({c.cloud_gpus}, {duration_text(c.cloud_total_s)}, prices as of {c.cloud_as_of})"),
                 ("cheaper", c.verdict)]
        if c.runs_to_pay_back is not None:
            rows.append(("buying pays back", f"after {c.runs_to_pay_back:,.0f} such runs "
                                             f"({money(c.buy_usd)} for the GPUs)"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if result.remedies:
        lines.append("what would make it fit (least given up first):")
        lines += [f"  {i}. {r.text} ({gib_text(r.total_bytes, 1)} per GPU)"
                  for i, r in enumerate(result.remedies, start=1)]
    lines += [f"warning: {w.text}" for w in result.warnings]
    return "\n".join(lines)


def run(args: argparse.Namespace, cat: Catalog) -> int:
    data = request_from_args(args)
    terms = cost_terms(args, cat, data)
    result = finetune_plan(parse_finetune_request(data), cat)
    if args.format == "json":
        print(json_text(result.model_dump(mode="json")))
    else:
        print(finetune_table(result, terms))
    return 0
