"""``rigfit report``: the scenario as a PDF or HTML file to forward.

Takes the estimate's flags plus the plan's (budget, users, hours, currency)
and writes one file; the report builders live in :mod:`report`. ``--lead``
picks the question it answers first, as the app's page it would be made from.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from advisor.plan import MAX_HOURS_PER_DAY, MAX_USERS
from advisor.region import RegionTerms, budget_usd_from
from catalog.catalog import Catalog
from catalog.errors import UserError, echo, invalid_input
from catalog.schema import ModelArch
from report.content import LEADS, PlanInputs, Section, report_content
from report.text import Translator
from rigfit.plan_cli import add_region_flags, region_from_args
from rigfit.estimate_cli import add_scenario_flags, request_from_args
from sizing.estimate import estimate
from sizing.finetune_methods import METHODS
from sizing.request import (EstimateRequest, parse_request,
                            resolve_model)

# The renderers and the optional sections are imported when a report asks for them:
# a PDF's fpdf2 and fonts cost an HTML report nothing, and the reverse.


def run(args: argparse.Namespace, cat: Catalog) -> int:
    args.lang = args.lang or getattr(args, "ui_lang", None) or "en"
    terms, own = region_from_args(args, cat, lang=args.lang)
    # The verdict's electricity cost at the region's price (or the one typed), as the builds'.
    request = parse_request({**request_from_args(args),
                             "electricity_usd_per_kwh": terms.electricity_usd_per_kwh})
    arch, _ = resolve_model(request, cat)
    result = estimate(request, cat)  # resolves the model again, keeping its warnings
    if args.budget_usd is not None and not args.budget_usd > 0:
        raise UserError(f"--budget-usd must be above 0 (got {args.budget_usd:g})",
                        code="flag_not_positive", params={"flag": "--budget-usd",
                                                          "got": f"{args.budget_usd:g}"})
    if not 1 <= args.users <= MAX_USERS:
        raise UserError(f"--users must be between 1 and {MAX_USERS} (got {args.users})",
                        code="flag_range", params={"flag": "--users", "low": 1, "high": MAX_USERS,
                                                   "got": args.users})
    if not 0 <= args.hours_per_day <= MAX_HOURS_PER_DAY:
        raise UserError(f"--hours-per-day must be between 0 and {MAX_HOURS_PER_DAY:g} "
                        f"(got {args.hours_per_day:g})", code="flag_range",
                        params={"flag": "--hours-per-day", "low": 0, "high": f"{MAX_HOURS_PER_DAY:g}",
                                "got": f"{args.hours_per_day:g}"})
    budget_usd = args.budget_usd if args.budget is None else budget_usd_from(args.budget, terms)
    inputs = PlanInputs(budget_usd=budget_usd, users=args.users,
                        hours_per_day=args.hours_per_day, currency=terms.currency,
                        compare=tuple(cat.gpu(g.strip()).id  # an unknown id is an error
                                      for g in (args.compare or "").split(",") if g.strip()),
                        electricity_usd_per_kwh=terms.electricity_usd_per_kwh,
                        circuit_volts=terms.circuit_volts, circuit_amps=terms.circuit_amps,
                        own_prices_usd=tuple(sorted(own.items())), terms=terms)
    extra = (finetune_section_for(args, request, arch, cat, terms),) if args.finetune else ()
    if args.serve is not None:
        extra += (serve_section_for(args, request, arch, cat, terms),)
    if args.fits:
        extra += (fits_section_for(args, request, cat),)
    content = report_content(result, lang=args.lang, arch=arch, request=request, inputs=inputs,
                             catalog=cat, lead=args.lead, extra=extra)
    if args.format == "pdf":
        from report.pdf import render_pdf
        write: Callable[[BinaryIO], int] = partial(_write_bytes, render_pdf(content))
    else:
        from report.html import write_html
        write = partial(write_html, content, cdn=args.cdn)
    out = Path(args.output)
    try:
        with out.open("wb") as handle:
            size = write(handle)
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) != out:
            raise  # a file the report is made from (plotly.js), not the one it writes
        raise UserError(f"cannot write '{out}': {exc.strerror}", code="file_unwritable",
                        params={"path": echo(str(out)), "reason": echo(exc.strerror or exc)}) from None
    print(f"wrote {out} ({size:,} bytes)")
    return 0


def _write_bytes(data: bytes, handle: BinaryIO) -> int:
    return handle.write(data)


def finetune_section_for(args: argparse.Namespace, request: EstimateRequest, arch: ModelArch,
                         cat: Catalog, terms: RegionTerms) -> Section:
    """The fine-tuning section for the report's model on its GPUs (``--finetune METHOD``),
    its electricity at the region's price and its money in the chosen currency."""
    from advisor.finetune import finetune_plan
    from report.finetune_section import finetune_section
    from sizing.finetune_request import model_fields_of, parse_finetune_request

    data = {**model_fields_of(request, arch), "method": args.finetune, "gpu": request.gpu,
            "gpu_count": request.gpu_count,
            "electricity_usd_per_kwh": terms.electricity_usd_per_kwh}
    if args.finetune_dataset_tokens is not None:
        data["dataset_tokens"] = args.finetune_dataset_tokens
    result = finetune_plan(parse_finetune_request(data), cat, arch=arch)
    return finetune_section(result, Translator(args.lang, prefix="doc."), currency=terms.currency,
                            units_per_usd=terms.units_per_usd)


def serve_section_for(args: argparse.Namespace, request: EstimateRequest, arch: ModelArch,
                      cat: Catalog, terms: RegionTerms) -> Section:
    """The serving section (``--serve USERS``): the report's machine and runtime at the
    default latency targets, its electricity at the region's price."""
    from report.serve_section import serve_section
    from sizing.capacity import ServeSettings, serve

    priced = request.model_copy(update={"electricity_usd_per_kwh": terms.electricity_usd_per_kwh})
    try:
        settings = ServeSettings(users=args.serve)
    except ValidationError as exc:
        raise invalid_input(exc, prefix="--serve: ") from None
    result = serve(priced, settings, cat, arch=arch)
    return serve_section(result, Translator(args.lang, prefix="doc."), currency=terms.currency,
                         units_per_usd=terms.units_per_usd)


def fits_section_for(args: argparse.Namespace, request: EstimateRequest, cat: Catalog) -> Section:
    """What else runs on the report's machine with its runtime (``--fits``), ranked."""
    from catalog.quality import load_quality
    from report.fits import fits_section
    from sizing.fits import fits, parse_fits_request, ranking_quality

    data = {"gpu": request.gpu, "gpu_count": request.gpu_count, "memory_gib": request.memory_gib,
            "ram": request.ram, "runtimes": (request.runtime,),
            "use": {"code": "code", "agent": "agent"}.get(request.workload or "", "chat")}
    if args.ram_gib is not None:
        data["ram_gib"] = args.ram_gib
    table = fits(parse_fits_request(data), cat, quality=ranking_quality(load_quality()))
    return fits_section(table, args.lang)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scenario_flags(p)
    p.add_argument("--fits", action="store_true",
                   help="add What can I run: every model that runs on the scenario's GPUs and "
                        "runtime, ranked")
    p.add_argument("--ram-gib", type=float,
                   help="with --fits: system RAM for offload [GiB] (default 32)")
    p.add_argument("--serve", type=int, metavar="USERS",
                   help="add Serve a team: USERS people sharing the scenario's machine and runtime "
                        "at the default latency targets")
    p.add_argument("--finetune", choices=METHODS,
                   help="add a fine-tuning section for this method on the scenario's GPUs")
    p.add_argument("--finetune-dataset-tokens", type=float,
                   help="with --finetune: tokens in the training set, to time and price one run")
    p.add_argument("--budget-usd", type=float, help="most a build may cost, for the three builds [USD]")
    p.add_argument("--budget", type=float, help="most a build may cost, in --currency")
    p.add_argument("--users", type=int, default=1, help="concurrent users for the builds (default 1)")
    p.add_argument("--hours-per-day", type=float, default=8.0,
                   help="hours of use per day, for electricity and break-even (default 8)")
    # --region (default: the --lang's), --currency, electricity, circuit, --price
    add_region_flags(p, usd_per_kwh_flag=False)
    p.add_argument("--compare", help="comma-separated GPU ids to compare (default: best value)")
    p.add_argument("--lead", choices=tuple(LEADS), default="configurator",
                   help="the question the report answers first, as the app's page of that name: "
                        "configurator (the verdict for --gpu), builds (the three builds), compare "
                        "(the GPU comparison) or cloud (the cloud offers); default configurator")
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="report language (default: rigfit's own --lang, else en)")
    p.add_argument("--format", choices=("pdf", "html"), required=True)
    p.add_argument("--cdn", action="store_true",
                   help="HTML only: load plotly.js from the CDN (small file, needs network)")
    p.add_argument("-o", "--output", required=True, help="file to write")
