"""The base of every typed result the engine and the advisor return."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    """A frozen result record; every numeric field name carries its unit."""

    model_config = ConfigDict(frozen=True)


__all__ = ["Result"]
