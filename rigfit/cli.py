"""``rigfit`` (and ``python -m sizing``): the project's stable command-line interface.

Every subcommand is listed once, in :data:`COMMANDS`, with the module that
implements it; a command line imports only its own command's module (a table
of GPUs never loads the report's PDF library). User errors (unknown ids, bad
numbers, unreadable files) print one line on stderr and exit with status 2; no
tracebacks.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from catalog.catalog import Catalog, load_catalog
from catalog.errors import UserError, echo
from catalog.loader import CatalogError
from rigfit import listing_cli
from rigfit.terminal import ERROR_MAX_CHARS, finite_float, given_text, whole_int
from report.text import DEFAULT_LANGUAGE, LANGUAGES, translate, translate_notice

EXIT_USAGE = 2
PROG = "rigfit"


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line and the module (with its function names) that
    declares its flags and runs it, imported when the command is used."""

    help: str
    module: str
    add_arguments_name: str = "add_arguments"
    run_name: str = "run"

    @property
    def add_arguments(self) -> Callable[[argparse.ArgumentParser], None]:
        return getattr(importlib.import_module(self.module), self.add_arguments_name)

    @property
    def run(self) -> Callable[[argparse.Namespace, Catalog], int]:
        return getattr(importlib.import_module(self.module), self.run_name)


COMMANDS: dict[str, Command] = {
    **{name: Command(text, "rigfit.listing_cli")
       for name, (text, _rows) in listing_cli.LISTINGS.items()},
    "estimate": Command("memory, fit, speed, power, heat and load for one scenario",
                        "rigfit.estimate_cli"),
    "fits": Command("every model that runs on one machine, ranked by quality and speed",
                    "rigfit.fits_cli"),
    "plan": Command("three complete builds for a workload and a budget, vs cloud",
                    "rigfit.plan_cli", "add_plan_arguments", "run_plan"),
    "cloud": Command("cloud instances for a workload, with break-even vs buying",
                     "rigfit.plan_cli", "add_cloud_arguments", "run_cloud"),
    "cloud-offers": Command("where the cloud offers come from; --refresh rebuilds them from gpuhunt",
                            "rigfit.cloud_offers_cli"),
    "report": Command("write the scenario as a PDF or HTML report", "rigfit.report_cli"),
    "finetune": Command("fine-tuning: memory per GPU, what fits, time, and local vs cloud cost",
                        "rigfit.finetune_cli"),
    "serve": Command("users one machine serves within latency targets, and the throughput curve",
                     "rigfit.serve_cli"),
}


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every number flag of every command, however it was declared: finite numbers
        # only (never inf or nan), whole numbers of a sane length.
        self.register("type", float, finite_float)
        self.register("type", int, whole_int)

    def error(self, message: str) -> None:  # one line, exit 2, like other user errors
        text = f"{self.prog}: {echo(message, max_chars=300)}"
        said = {"prog": self.prog}
        if match := _REQUIRED.fullmatch(message):
            raise UserError(text, code="cli_required", params={**said, "flags": echo(match[1])})
        if match := _ONE_OF.fullmatch(message):
            raise UserError(text, code="cli_one_of_required", params={**said, "flags": echo(match[1])})
        if match := _UNRECOGNIZED.fullmatch(message):
            raise UserError(text, code="cli_unrecognized", params={**said, "got": echo(match[1])})
        if match := _CHOICE.fullmatch(message):
            raise UserError(text, code="cli_invalid_choice", params={
                **said, "flag": match[1], "got": echo(match[2]), "choices": echo(match[3])})
        if match := _NO_VALUE.fullmatch(message):
            raise UserError(text, code="cli_no_value", params={**said, "flag": match[1]})
        if match := _NOT_WHOLE.fullmatch(message):
            raise UserError(text, code="cli_not_whole", params={**said, "flag": match[1],
                                                                "got": echo(match[2])})
        if match := _NOT_NUMBER.fullmatch(message):
            raise UserError(text, code="cli_not_number", params={**said, "flag": match[1],
                                                                 "got": echo(match[2])})
        if match := _EMPTY.fullmatch(message):
            raise UserError(text, code="cli_empty", params={**said, "flag": match[1]})
        raise UserError(text, code="cli_usage",
                        params={**said, "detail": echo(message, max_chars=300)})


class _CommandParser(_Parser):
    """A command's flags: a text value may not be empty either. (Not the top parser: its
    command action reads every word after the command through the same type.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("type", None, given_text)
        self.register("type", str, given_text)


# argparse's own messages (English only), read back into values any language can say.
_REQUIRED = re.compile(r"the following arguments are required: (.+)")
_ONE_OF = re.compile(r"one of the arguments (.+) is required")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (.+)")
_CHOICE = re.compile(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.+)\)")
_NO_VALUE = re.compile(r"argument (\S+): expected one argument")
# rigfit.terminal's number types
_NOT_WHOLE = re.compile(r"argument (\S+): '(.*)' is not a whole number")
_EMPTY = re.compile(r"argument (\S+): the value is empty")
_NOT_NUMBER = re.compile(r"argument (\S+): '(.*)' is not a (?:finite )?number")


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand a command line names: its first word that is one (the only
    word before it can be ``--lang``'s value, never a command's name)."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(prog: str = PROG, *, only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the flags of that one subcommand alone
    (the others keep their name and help line), so parsing it imports one module."""
    parser = _Parser(prog=prog,
                     description="RigFit: will an LLM fit your GPU, and how fast will it run?")
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, dest="ui_lang",
                        help="language of errors, warnings and --format table output, and of a "
                             "report unless it sets its own --lang (JSON stays as it is)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_CommandParser)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help)
        if only is None or name == only:
            command.add_arguments(p)
    return parser


def _lang_in(argv: Sequence[str]) -> str:
    """The language a command line asks for with ``--lang`` before its first subcommand word."""
    for flag, value in zip(argv, argv[1:]):
        if flag == "--lang" and value in LANGUAGES:
            return value
        if not flag.startswith("-"):
            break
    return DEFAULT_LANGUAGE


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run one subcommand; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_in(words)  # for errors before parsing ends
    try:
        args = build_parser(prog, only=command_in(words)).parse_args(words)
        lang = args.ui_lang
        return COMMANDS[args.command].run(args, load_catalog())
    except (UserError, CatalogError) as exc:
        # One line, whatever a message echoes: escapes shown, at most ERROR_MAX_CHARS.
        message = echo(translate_notice(exc, lang), max_chars=ERROR_MAX_CHARS)
        print(translate("cli.error", lang, message=message), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


def console(argv: Sequence[str] | None = None, *, prog: str = PROG) -> NoReturn:
    """The ``rigfit`` script: :func:`main`, then the process ends with its status.

    The exit handlers run (``atexit``: temporary folders, logging) and the output is
    flushed, as at a normal exit, then the process exits without the interpreter's teardown, which would
    only free, one by one, the objects of every module and the loaded catalog (about
    0.1 s of CPU after a report) before the operating system takes the memory back
    anyway (``os._exit``: https://docs.python.org/3/library/os.html#os._exit; mod_wsgi
    offers the same skip, https://modwsgi.readthedocs.io/en/latest/configuration-directives/WSGIDestroyInterpreter.html).
    """
    status = main(argv, prog=prog)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a reader that went away (| head) or a closed stream: nothing more to say
    os._exit(status)


__all__ = ["main", "console", "build_parser", "COMMANDS"]
