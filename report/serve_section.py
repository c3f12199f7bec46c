"""The report's serving section, built from :func:`sizing.capacity.serve`.

The strings are the Serve page's (``serve.`` in the string catalog), so the
page and the report say the same thing; money is shown in the chosen currency.
"""

from __future__ import annotations

from report.content import Fact, Section, Table
from report.formats import number_text, usd_in_currency_text
from report.text import Translator
from sizing.capacity import ServeResult


def serve_section(result: ServeResult, tr: Translator, *, currency: str = "USD",
                  units_per_usd: float = 1.0) -> Section:
    """Users at the targets, the load's latencies, what limits first and the curve."""
    r = result
    rate = r.requests_per_minute
    kwh = usd_in_currency_text(r.usd_per_kwh, currency, units_per_usd, digits=3, lang=tr.lang)
    facts = (
        Fact(tr("serve.users_at_target"), f"{r.max_users_at_target:,}"),
        Fact(tr("serve.throughput", users=r.users) if rate is None
             else tr("serve.throughput_rate", rate=f"{rate:g}"),
             number_text(r.throughput_tokens_per_s, 0)),
        Fact(tr("serve.limiter"), tr(f"serve.limiter_{r.limiter}")),
        Fact(tr("serve.cost"), usd_in_currency_text(r.cost_usd_per_1m_tokens, currency,
                                                    units_per_usd, digits=3, lang=tr.lang)),
        Fact(tr("serve.ttft"), f"{r.ttft_p50_s:.2f} / {r.ttft_p95_s:.2f} s"),
        Fact(tr("serve.itl"), f"{r.itl_p50_ms:.1f} / {r.itl_p95_ms:.1f} ms"),
        Fact(tr("serve.knee"), f"{r.knee_concurrency:,}"),
    )
    curve = Table(columns=(tr("serve_chart.concurrency_axis"), tr("serve_chart.throughput"),
                           tr("serve_chart.ttft"), tr("serve_chart.itl")),
                  rows=tuple((f"{p.concurrency:,}", number_text(p.throughput_tokens_per_s, 0),
                              f"{p.ttft_p95_s:.2f}", f"{p.itl_p95_ms:.1f}") for p in r.curve),
                  numeric=(True, True, True, True))
    verdict = ("serve.meets" if r.meets_target else "serve.misses") if rate is None else (
        "serve.meets_rate" if r.meets_target else "serve.misses_rate")
    notes = (
        tr(verdict, users=r.users, rate=f"{rate or 0:g}", most=r.max_requests_per_minute_at_target),
        tr("serve.users_at_target_help", ttft=f"{r.target_ttft_p95_s:g}",
           itl=f"{r.target_itl_p95_ms:g}", think=f"{r.think_time_s:g}"),
        tr("serve.pool", tokens=f"{r.kv_pool_tokens:,}", requests=r.kv_pool_requests)
        if r.kv_pool_tokens is not None else tr("serve.slots", slots=r.max_running_requests),
        tr("serve.cost_help", watts=f"{r.system_power_w:.0f}", kwh=kwh),
        tr("serve.method"),
    )
    return Section("serve", tr("serve.title"),
                   intro=tr("serve.scenario", model=r.model_name, count=r.gpu_count,
                            gpu=r.gpu_name, quant=r.quant, runtime=r.runtime),
                   facts=facts, tables=(curve,), notes=notes)


__all__ = ["serve_section"]
