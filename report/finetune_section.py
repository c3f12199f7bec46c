"""The report's fine-tuning section, built from :func:`advisor.finetune.finetune_plan`.

The strings are the Fine-tune page's (``finetune.`` and ``finetune_chart.`` in
the string catalog), so the page and the report say the same thing.
"""

from __future__ import annotations

from advisor.finetune import FinetuneResult
from report.content import Fact, Section, Table
from report.finetune_charts import PARTS
from report.formats import duration_text, gib_text, number_text, usd_in_currency_text
from report.text import Translator, translate_notice


def finetune_section(result: FinetuneResult, tr: Translator, *, currency: str = "USD",
                     units_per_usd: float = 1.0) -> Section:
    """Memory per GPU by part, what fits, time and the cost of one run, in ``currency``."""
    m, t, f, c = result.memory, result.time, result.fit, result.cost

    def money(usd: float | None, digits: int = 0) -> str:
        return usd_in_currency_text(usd, currency, units_per_usd, digits=digits, lang=tr.lang)

    method = tr(f"finetune.method_{result.setup['method']}")
    sizes = {"total": gib_text(m.total_bytes), "usable": gib_text(m.usable_bytes)}
    facts = [
        Fact(tr("finetune.method"), tr("finetune.scenario", model=result.model.name, method=method,
                                       count=result.gpu_count, gpu=result.gpu_name)),
        Fact(tr("finetune.trainable"),
             tr("finetune.trainable_value", millions=number_text(m.trainable_params / 1e6))),
        Fact(tr("finetune.step"), f"{number_text(t.step_s, 2)} s"),
        Fact(tr("finetune.throughput"), number_text(t.tokens_per_s, 0)),
        Fact(tr("finetune.dataset_time"), duration_text(t.total_s, tr.lang)),
        Fact(tr("finetune.max_micro_batch", seq=f"{result.setup['seq_len']:,}"),
             f"{f.max_micro_batch:,}"),
        Fact(tr("finetune.max_seq_len", batch=result.setup["micro_batch"]), f"{f.max_seq_len:,}"),
        Fact(tr("finetune.cheapest"), tr(f"finetune.method_{f.cheapest_method}")
             if f.cheapest_method else tr("finetune.none")),
        Fact(tr("finetune.local"), money(c.local_usd, 2)
             if c.local_usd is not None else tr("finetune.local_none")),
        Fact(tr("finetune.cloud"), money(c.cloud_usd_best, 2)
             if c.cloud_usd_best is not None else tr("finetune.cloud_none")),
    ]
    parts = Table(columns=(tr("finetune_chart.title"), "GiB"),
                  rows=tuple((tr(f"finetune_chart.{key}"), gib_text(getattr(m, field), 2))
                             for key, field, _colour in PARTS),
                  numeric=(False, True))
    notes = [tr("finetune.fits" if m.fits else "finetune.does_not_fit", **sizes)]
    notes += [tr("finetune.remedy", change=" ".join(translate_notice(n, tr.lang) for n in r.notices),
                 total=gib_text(r.total_bytes)) for r in result.remedies]
    if c.verdict != "unknown":
        notes.append(tr(f"finetune.verdict_{c.verdict}"))
    if c.runs_to_pay_back is not None:
        notes.append(tr("finetune.pay_back", price=money(c.buy_usd),
                        runs=f"{c.runs_to_pay_back:,.0f}"))
    notes.append(tr("finetune.method_note"))
    return Section("finetune", tr("finetune.title"), facts=tuple(facts), tables=(parts,),
                   notes=tuple(notes))


__all__ = ["finetune_section"]
