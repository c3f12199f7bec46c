"""Warnings the engine attaches to results, translatable by front ends.

A :class:`Notice` is an English sentence (a ``str``, so every consumer that
wants text gets text) that also carries a stable ``code`` and the ``params``
a translation needs. Front ends look up ``engine.<code>`` in their locale
files and fall back to the English text.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

Param = str | int | float


class Notice(str):
    """English text with a code and parameters for translation."""

    code: str
    params: dict[str, Param]

    def __new__(cls, code: str, text: str, **params: Param) -> Notice:
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = params
        return obj


class NoticeOut(BaseModel):
    """A notice in a result: code, parameters and the English text."""

    model_config = ConfigDict(frozen=True)

    code: str
    params: dict[str, Param]
    text: str

    @classmethod
    def of(cls, item: str) -> NoticeOut:
        if isinstance(item, Notice):
            return cls(code=item.code, params=item.params, text=str(item))
        return cls(code="text", params={}, text=str(item))
