"""``python -m sizing report``: the scenario as a PDF or HTML file to forward.

Registered into :mod:`sizing.cli` through ``EXTRA_COMMANDS``. Takes the
estimate's flags plus the plan's (budget, users, hours, currency) and writes
one file; the report builders live in :mod:`report`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from catalog.catalog import Catalog
from sizing import cli
from sizing.estimate import estimate
from sizing.request import parse_request, resolve_model


def _cmd_report(args: argparse.Namespace, cat: Catalog) -> int:
    from report.content import PlanInputs, report_content

    request = parse_request(cli._request_from_args(args))
    arch, _ = resolve_model(request, cat)
    result = estimate(request, cat)  # resolves the model again, keeping its warnings
    if args.budget_usd is not None and not args.budget_usd > 0:
        raise cli.UserError(f"--budget-usd must be above 0 (got {args.budget_usd:g})")
    if args.users < 1:
        raise cli.UserError(f"--users must be 1 or more (got {args.users})")
    if not 0 <= args.hours_per_day <= 24:
        raise cli.UserError(f"--hours-per-day must be between 0 and 24 (got {args.hours_per_day:g})")
    inputs = PlanInputs(budget_usd=args.budget_usd, users=args.users,
                        hours_per_day=args.hours_per_day, currency=args.currency,
                        compare=tuple(g for g in (args.compare or "").split(",") if g))
    content = report_content(result, lang=args.lang, arch=arch, request=request, inputs=inputs,
                             catalog=cat)
    if args.format == "pdf":
        from report.pdf import render_pdf
        data = render_pdf(content)
    else:
        from report.html import render_html
        data = render_html(content, cdn=args.cdn)
    out = Path(args.output)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise cli.UserError(f"cannot write '{out}': {exc.strerror}") from None
    print(f"wrote {out} ({len(data):,} bytes)")
    return 0


def register(sub: Any) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser("report", help="write the scenario as a PDF or HTML report")
    for flag, kind, text in cli.ESTIMATE_FLAGS:
        p.add_argument(flag, type=kind, help=text)
    p.add_argument("--budget-usd", type=float, help="most a build may cost, for the three builds [USD]")
    p.add_argument("--users", type=int, default=1, help="concurrent users for the builds (default 1)")
    p.add_argument("--hours-per-day", type=float, default=8.0,
                   help="hours of use per day, for electricity and break-even (default 8)")
    p.add_argument("--currency", default="USD", help="currency code for build prices (USD, EUR, CNY, ...)")
    p.add_argument("--compare", help="comma-separated GPU ids to compare (default: best value)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="report language")
    p.add_argument("--format", choices=("pdf", "html"), required=True)
    p.add_argument("--cdn", action="store_true",
                   help="HTML only: load plotly.js from the CDN (small file, needs network)")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.set_defaults(run=_cmd_report)


if register not in cli.EXTRA_COMMANDS:
    cli.EXTRA_COMMANDS.append(register)
