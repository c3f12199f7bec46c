"""The one base class of errors a user can fix.

Every error caused by what a user typed, uploaded or linked (an unknown id, a
number out of range, a file that cannot be read as a model) derives from
:class:`UserError`. Front ends catch this class alone and show its message as
one line; any other exception is a bug and is not hidden.

An error may carry a ``code`` and the ``params`` its sentence needs, like an
engine notice (:class:`sizing.notices.Notice`): front ends then render it from
the string catalog (``engine.<code>``) in the user's language, and fall back to
the English message when no code or translation exists.

It lives in the lowest layer (the catalog) so that the catalog, the engine, the
advisor, the report builders and the command line can all raise and catch it.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

# Longest piece of user input an error message repeats: enough to recognise an
# id or a value, short enough that a pasted megabyte never fills a terminal.
ECHO_MAX_CHARS = 80
_ELLIPSIS = "…"


class UserError(ValueError):
    """Something the user can change; the message names it and what is allowed."""

    def __init__(self, message: str = "", *, code: str = "text",
                 params: dict[str, str | int | float] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})

    @property
    def text(self) -> str:
        """The English message (what ``str()`` gives)."""
        return str(self)


def echo(value: object, max_chars: int = ECHO_MAX_CHARS, *, tail: bool = False) -> str:
    """``value`` as an error message repeats it: one line of at most ``max_chars`` characters.

    Every character Python does not print (controls, newlines, tabs, bidi and
    zero-width format characters, separators, lone surrogates) is shown as its
    escape, so echoed input can neither break the line, reorder it nor drive a
    terminal; a longer text is cut and ends in "…". With ``tail`` the end is kept
    instead and the text starts with "…" (a file path, whose name is at its end).

    >>> echo("/very/long/folder/" * 9 + "model.gguf", 30, tail=True)
    '…//very/long/folder/model.gguf'
    """
    text = value if isinstance(value, str) else _str(value)
    if tail:
        end = _visible(text[-(max_chars + 1):])
        if len(text) > max_chars or len(end) > max_chars:
            return _ELLIPSIS + end[-(max_chars - 1):]
        return end
    head = _visible(text[:max_chars + 1])
    if len(text) > max_chars or len(head) > max_chars:
        return head[:max_chars - 1] + _ELLIPSIS
    return head


def _visible(text: str) -> str:
    """``text`` with every character Python does not print shown as its escape."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def _str(value: object) -> str:
    try:
        return str(value)
    except ValueError:  # an integer past Python's digit limit for str()
        return "a number too long to show"


def validation_error_text(exc: ValidationError) -> str:
    """A pydantic validation error as one plain line: each field and what is wrong with it."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return echo("; ".join(parts), max_chars=400)


# Pydantic's error types that a request or settings file can hit; each has a
# sentence under ``engine.term.<type>``, any other type is said as "invalid".
VALIDATION_RULES = ("greater_than", "greater_than_equal", "less_than", "less_than_equal",
                    "missing", "extra_forbidden", "int_parsing", "int_from_float", "int_type",
                    "float_parsing", "float_type", "finite_number", "bool_parsing", "bool_type",
                    "string_type", "literal_error", "too_long", "too_short")
# The context value each rule names (the bound, the allowed choices, the length).
_RULE_LIMITS = ("gt", "ge", "lt", "le", "expected", "max_length", "min_length")


def validation_error_params(exc: ValidationError) -> dict[str, str]:
    """The first problem of a pydantic validation error as ``engine.invalid_field`` parameters.

    ``field`` is the dotted field name, ``rule_term`` the kind of problem (looked
    up under ``engine.term.``), ``limit`` the bound or choices the rule names
    (empty when it names none). Values only, so any language can say them.
    """
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return {"field": "", "rule_term": "invalid", "limit": ""}
    err = errors[0]
    ctx = err.get("ctx") or {}
    limit = str(next((ctx[k] for k in _RULE_LIMITS if k in ctx), ""))
    limit = limit.replace("' or '", "', '")  # pydantic joins a literal's choices with "or"
    return {"field": echo(".".join(str(p) for p in err["loc"])),
            "rule_term": err["type"] if err["type"] in VALIDATION_RULES else "invalid",
            "limit": echo(limit)}


# The error type pydantic reports for a :func:`problem`: this prefix, then its code.
_PROBLEM_PREFIX = "rigfit."


def problem(message: str, *, code: str,
            params: dict[str, str | int | float] | None = None) -> PydanticCustomError:
    """A validator's own check, raised inside a pydantic validator like a :class:`UserError`.

    :func:`invalid_input` turns it back into an error coded ``code`` with ``params``,
    so a front end says it from ``engine.<code>`` in the user's language; a bare
    ``ValueError`` in a validator can only be said in English.
    """
    return PydanticCustomError(_PROBLEM_PREFIX + code, message, dict(params or {}))


def invalid_input(exc: ValidationError, error: type[UserError] = UserError, *,
                  prefix: str = "") -> UserError:
    """A pydantic validation error as ``error``: one English line and its code.

    A :func:`problem` keeps its own code and parameters; a check worded only in
    English (a bare ``ValueError``) keeps its sentence (no code); any other rule
    is coded ``invalid_field``.
    """
    text = prefix + validation_error_text(exc)
    errors = exc.errors(include_url=False, include_input=False)
    kind = errors[0]["type"] if errors else ""
    if kind.startswith(_PROBLEM_PREFIX):
        params = {name: value if isinstance(value, (int, float)) else echo(value)
                  for name, value in (errors[0].get("ctx") or {}).items()}
        return error(text, code=kind.removeprefix(_PROBLEM_PREFIX), params=params)
    if kind == "value_error":
        return error(text)
    return error(text, code="invalid_field", params=validation_error_params(exc))


__all__ = ["ECHO_MAX_CHARS", "UserError", "VALIDATION_RULES", "echo", "invalid_input", "problem",
           "validation_error_params",
           "validation_error_text"]
