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
from report.text import DEFAULT_LANGUAGE, strings, translate, translate_notice
from rigfit.terminal import cli_text, json_text, padded, text_width
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


def finetune_table(result: FinetuneResult, terms: RegionTerms | None = None,
                   lang: str = DEFAULT_LANGUAGE) -> str:
    """The answer as aligned lines for a terminal; money in ``terms``' currency."""
    m, t, c, f = result.memory, result.time, result.cost, result.fit
    currency, units = (terms.currency, terms.units_per_usd) if terms else ("USD", 1.0)

    def money(usd: float | None, digits: int = 0) -> str:
        return usd_in_currency_text(usd, currency, units, digits=digits, lang=lang)

    def say(key: str, **values: object) -> str:
        return cli_text(f"finetune.{key}", lang, **values)

    def chosen(prefix: str, value: object) -> str:
        """An option's value as the Finetune page names it; English keeps the value itself."""
        key = f"finetune.{prefix}{value}"
        table = strings(lang)
        return table[key] if lang != DEFAULT_LANGUAGE and key in table else str(value)

    s = result.setup
    method = chosen("method_", s["method"]) + (
        say("lora", rank=s["lora_rank"], targets=chosen("targets_", s["lora_targets"]))
        if s["method"] != "full" else "")
    seq_len = number_text(s["seq_len"], 0)
    rows = [
        ("model", cli_text("estimate.model_value", lang, name=result.model.name,
                           params_b=number_text(result.model.params_total / 1e9, 2))),
        ("gpu", say("gpu_value", count=result.gpu_count, gpu=result.gpu_name,
                    memory_gib=f"{result.gpu_memory_gib:g}", sharding=s["sharding"])),
        ("method", say("method_value", method=method, optimizer=s["optimizer"],
                       checkpointing=chosen("ckpt_", s["gradient_checkpointing"]))),
        ("batch", say("batch_value", micro_batch=s["micro_batch"], seq_len=seq_len,
                      grad_accum=s["grad_accum"])),
        ("verdict", say("fits" if m.fits else "does_not_fit")),
        *((name, gib_text(getattr(m, f"{name}_bytes"), 2)) for name in ("weights",)),
        ("trainable", say("trainable_value", value=number_text(m.trainable_params / 1e6))),
        *((name, gib_text(getattr(m, f"{name}_bytes"), 2))
          for name in ("gradients", "master_weights", "optimizer", "activations", "overhead")),
        ("total_usable", say("total_usable_value", total=gib_text(m.total_bytes, 2),
                             usable=gib_text(m.usable_bytes, 2))),
    ]
    if m.host_bytes:
        rows.append(("system_ram", gib_text(m.host_bytes, 1)))
    rows += [
        ("step", say("step_value", value=number_text(t.step_s, 2),
                     low=number_text(t.step_s_low, 2), high=number_text(t.step_s_high, 2))),
        ("throughput", say("throughput_value", value=number_text(t.tokens_per_s, 0))),
        ("max_micro_batch", say("max_micro_batch_value", value=f.max_micro_batch,
                                seq_len=seq_len)),
        ("max_sequence", say("max_sequence_value", value=number_text(f.max_seq_len, 0),
                             micro_batch=s["micro_batch"])),
        ("cheapest_method", f.cheapest_method or say("none_fits")),
    ]
    if t.total_s is not None:
        rows += [("dataset_time", say("dataset_time_value", time=duration_text(t.total_s, lang),
                                      steps=number_text(t.steps, 0))),
                 ("local_cost", say("does_not_fit") if c.local_usd is None else
                  say("local_cost_value", money=money(c.local_usd, 2),
                      kwh=number_text(c.energy_kwh, 1))),
                 ("cloud_best", say("none_holds") if c.cloud_usd_best is None else
                  say("cloud_best_value", money=money(c.cloud_usd_best, 2),
                      provider=c.cloud_provider, instance=c.cloud_instance, gpus=c.cloud_gpus,
                      time=duration_text(c.cloud_total_s, lang), as_of=c.cloud_as_of)),
                 ("cheaper", say(f"verdict_{c.verdict}"))]
        if c.runs_to_pay_back is not None:
            rows.append(("pays_back", say("pays_back_value",
                                          runs=number_text(c.runs_to_pay_back, 0),
                                          money=money(c.buy_usd))))
    labelled = [(say(f"label.{key}"), value) for key, value in rows]
    width = max(text_width(label) for label, _ in labelled)
    lines = [f"{padded(label, width)}  {value}" for label, value in labelled]
    if result.remedies:
        lines.append(cli_text("estimate.remedies", lang))
        sep = "" if lang == "zh" else " "
        lines += [f"  {i}. " + say("remedy", change=r.text if lang == DEFAULT_LANGUAGE else
                                   sep.join(translate_notice(n, lang) for n in r.notices),
                                   memory=gib_text(r.total_bytes, 1))
                  for i, r in enumerate(result.remedies, start=1)]
    lines += [translate("cli.warning", lang, message=translate_notice(w, lang))
              for w in result.warnings]
    return "\n".join(lines)


def run(args: argparse.Namespace, cat: Catalog) -> int:
    data = request_from_args(args)
    terms = cost_terms(args, cat, data)
    result = finetune_plan(parse_finetune_request(data), cat)
    if args.format == "json":
        print(json_text(result.model_dump(mode="json")))
    else:
        print(finetune_table(result, terms, args.ui_lang))
    return 0
