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


def echo(value: object, max_chars: int = ECHO_MAX_CHARS) -> str:
    """``value`` as an error message repeats it: one line of at most ``max_chars`` characters.

    Every character Python does not print (controls, newlines, tabs, bidi and
    zero-width format characters, separators, lone surrogates) is shown as its
    escape, so echoed input can neither break the line, reorder it nor drive a
    terminal; a longer text is cut and ends in "…".
    """
    text = value if isinstance(value, str) else _str(value)
    head = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text[:max_chars + 1])
    if len(text) > max_chars or len(head) > max_chars:
        return head[:max_chars - 1] + _ELLIPSIS
    return head


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


__all__ = ["ECHO_MAX_CHARS", "UserError", "echo", "validation_error_text"]
