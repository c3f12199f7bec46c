"""Sentences the engine and the advisor attach to results, translatable by front ends.

A :class:`Notice` is the one message type: a stable ``code``, the ``params``
a translation needs, and the English ``text``. Front ends translate it with
:func:`report.text.translate_notice` (``notice.<code>`` in the string
catalog) and fall back to the English text; ``str(notice)`` is that text.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from pydantic import BaseModel, ConfigDict

Param = str | int | float


def count_text(count: int, one: str, other: str) -> str:
    """A count and the word that follows it, singular or plural.

    >>> count_text(1, "user", "users"), count_text(1500, "row", "rows")
    ('1 user', '1,500 rows')
    """
    return f"{count:,} {one if count == 1 else other}"


class Notice(BaseModel):
    """English text with a code and parameters for translation."""

    model_config = ConfigDict(frozen=True)

    code: str
    params: dict[str, Param] = {}
    text: str

    def __init__(self, code: str | None = None, text: str | None = None, /, **data: object) -> None:
        # Positional form for the engine, Notice("offloaded", "Does not fit ...", gpu_layers=3);
        # keyword form (code=, params=, text=) for validation from JSON.
        if code is None:
            super().__init__(**data)
        else:
            super().__init__(code=code, text=text, params=data)

    def __str__(self) -> str:
        return self.text

    @classmethod
    def plain(cls, text: str) -> "Notice":
        """A sentence with no translation (shown as it is in every language)."""
        return cls("text", text)


__all__ = ["Notice", "Param"]
