"""The base of every typed result the engine and the advisor return."""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    """A frozen result record; every numeric field name carries its unit."""

    model_config = ConfigDict(frozen=True)


__all__ = ["Result"]
