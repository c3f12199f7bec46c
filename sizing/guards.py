"""Checks on what a user hands in: files read with a bound, whole numbers in range, true/false.

Every file RigFit reads from a path a user gives (a config.json, a JSONL batch
of requests, a benchmark paste) goes through :func:`read_bounded_bytes`: a
regular file larger than its limit is refused before a byte is read, anything
else (a device such as ``/dev/zero``, a pipe, a socket, a folder) is refused
outright, and at most the limit plus one byte is ever held. The limits are
defined here, once.

Numbers and flags read from a file are checked by :func:`whole_number` and
:func:`strict_flag`: a JSON ``true`` is not a count, the string ``"false"`` is
not false, and a number outside its field's range is one line naming the field
and the range, never an overflow or a silent default.
"""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any

from catalog.errors import UserError, echo
from sizing.units import bytes_to_mib, mib_to_bytes

MAX_CONFIG_BYTES = int(mib_to_bytes(5))  # a config.json is a few KiB
MAX_REQUESTS_BYTES = int(mib_to_bytes(16))  # a JSONL request is ~200 bytes: 80,000 of them
MAX_BENCH_BYTES = int(mib_to_bytes(1))  # far more than any llama-bench or ollama output


class ModelInputError(UserError):
    """A model description that cannot be used, with the reason."""


class InputFileError(UserError):
    """A file that cannot be read: missing, not a regular file, or over its size limit."""


def mib_text(n_bytes: float) -> str:
    """A size in MiB for a message, e.g. ``5 MiB``. [MiB]"""
    return f"{bytes_to_mib(n_bytes):,.4g} MiB"


def read_bounded_bytes(path: str | os.PathLike[str], *, limit_bytes: int, what: str) -> bytes:
    """The bytes of the file at ``path``, refusing more than ``limit_bytes``. [B]

    ``what`` names the file in messages ("config.json", "requests file").
    Raises :class:`InputFileError`; never holds more than ``limit_bytes + 1``.
    """
    shown = echo(os.fspath(path), tail=True)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        raise _unreadable(what, shown, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(f"{what} '{shown}' is a folder, not a file",
                             code="file_folder", params={"what_term": what, "path": shown})
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{what} '{shown}' is not a regular file (a device, pipe or "
                             "socket); give a file saved on disk",
                             code="file_not_regular", params={"what_term": what, "path": shown})
    if info.st_size > limit_bytes:
        raise _too_large(what, shown, info.st_size, limit_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit_bytes + 1)
    except OSError as exc:
        raise _unreadable(what, shown, exc) from None
    if len(data) > limit_bytes:  # the file grew after it was measured
        raise _too_large(what, shown, len(data), limit_bytes)
    return data


def _unreadable(what: str, shown: str, exc: Exception) -> InputFileError:
    reason = getattr(exc, "strerror", None) or "not a valid path"
    return InputFileError(f"cannot read {what} '{shown}': {reason}", code="file_unreadable",
                          params={"what_term": what, "path": shown, "reason": reason})


def _too_large(what: str, shown: str, size_bytes: float, limit_bytes: int) -> InputFileError:
    size = mib_text(size_bytes)
    return InputFileError(f"{what} '{shown}' is {size}; the limit is {mib_text(limit_bytes)}",
                          code="file_too_large",
                          params={"what_term": what, "path": shown, "size": size,
                                  "limit": mib_text(limit_bytes)})


def load_json(data: str | bytes, *, what: str,
              error: type[UserError] = ModelInputError) -> Any:
    """``data`` parsed as JSON, else one ``error`` naming ``what``.

    Not JSON, not UTF-8, an integer of more than Python's 4,300 digits, or
    nesting deeper than the parser's recursion limit are all the same kind of
    mistake: not a file RigFit can read.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise error(f"{what} is nested too deeply to be read", code="json_too_deep",
                    params={"what_term": what}) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the int digit limit
        reason = echo(str(exc), max_chars=120)
        raise error(f"{what} is not valid JSON ({reason})", code="json_invalid",
                    params={"what_term": what, "reason": reason}) from None


def json_kind(value: object) -> str:
    """The kind of a JSON value in words ("a list"), as a message names a wrong type."""
    if isinstance(value, bool):
        return "true or false"
    kinds = ((dict, "an object"), (list, "a list"), (str, "text"), ((int, float), "a number"))
    return next((word for kind, word in kinds if isinstance(value, kind)), "null")


def json_value_text(value: object) -> str:
    """A JSON value as a message shows it: strings quoted and cut, containers by kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + echo(value, max_chars=40) + '"'
    if isinstance(value, (int, float)):
        return echo(value, max_chars=40)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def whole_number(name: str, value: object, *, low: int, high: int,
                 where: str = "config.json") -> int:
    """``value`` as a whole number in ``low..high``, else a :class:`ModelInputError`.

    ``true``/``false``, strings, fractions, NaN and infinity are refused, as is
    any number outside the range; the message names the field and the range.
    """
    ok = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        ok = True
    if ok and low <= value <= high:  # type: ignore[operator]
        return int(value)  # type: ignore[arg-type]
    got = json_value_text(value)
    raise ModelInputError(
        f"{where}: '{name}' must be a whole number from {low:,} to {high:,}, got {got}",
        code="value_range",
        params={"where": where, "field": name, "low": f"{low:,}", "high": f"{high:,}", "got": got})


def strict_flag(name: str, value: object, *, default: bool, where: str = "config.json") -> bool:
    """A JSON ``true``/``false`` (``default`` when absent or null), else a :class:`ModelInputError`."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    got = json_value_text(value)
    raise ModelInputError(f"{where}: '{name}' must be true or false, got {got}",
                          code="value_flag", params={"where": where, "field": name, "got": got})


__all__ = ["InputFileError", "MAX_BENCH_BYTES", "MAX_CONFIG_BYTES", "MAX_REQUESTS_BYTES",
           "ModelInputError", "json_kind", "json_value_text", "load_json", "mib_text",
           "read_bounded_bytes", "strict_flag", "whole_number"]
