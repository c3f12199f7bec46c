"""The dated snapshot of cloud offers built from gpuhunt's catalog, and which offers the app uses.

``cloud_offers.yaml`` is written by ``rigfit cloud-offers --refresh`` (see
:mod:`catalog.gpuhunt_offers`), never by hand. It has three top-level keys:

- ``snapshot``: when it was generated (``generated_on``), the gpuhunt version
  and catalog URL it was read from, per-provider counts of on-demand and spot
  offers, the GPU names that map to no catalog GPU (``unmapped``, with how many
  offers each had) and the providers that could not be read (``not_loaded``);
- ``on_demand`` and ``spot``: :class:`catalog.market.CloudInstance` entries,
  kept in two lists so a spot price is never read as an on-demand one.

When the file exists its on-demand offers are the cloud instances the app
prices; otherwise the hand-reviewed ``cloud.yaml`` is used.
:class:`OffersSource` says which, and from when, so pages and reports can say so.
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from catalog.loader import CatalogError, read_yaml_file
from catalog.schema import Record, Url

SNAPSHOT_FILE = "cloud_offers.yaml"
REVIEWED_FILE = "cloud.yaml"


class ProviderCounts(Record):
    """What one provider contributed to the snapshot."""

    catalog_version: str | None = None  # gpuhunt's published version; None for live queries
    on_demand: int = Field(ge=0)
    spot: int = Field(ge=0)
    incomplete: int = Field(default=0, ge=0)  # mapped offers without vCPUs, RAM or a price, or
    # outside the instance schema (more than 16 GPUs): not written


class UnmappedGpu(Record):
    """A gpuhunt GPU name with no catalog GPU: its offers are counted here, not priced."""

    provider: str
    gpu_name: str
    gpu_memory_gib: float | None = None
    offers: int = Field(ge=1)


class NotLoaded(Record):
    """A provider the refresh asked for and could not read."""

    provider: str
    reason: str


class SnapshotHeader(Record):
    generated_on: dt.date
    gpuhunt_version: str
    catalog_url: Url
    providers: dict[str, ProviderCounts]
    unmapped: tuple[UnmappedGpu, ...] = ()
    not_loaded: tuple[NotLoaded, ...] = ()


@dataclass(frozen=True)
class OffersSource:
    """Where the cloud offers the app prices come from.

    ``kind`` is ``gpuhunt`` (the generated snapshot; ``as_of`` is the day it was
    generated) or ``reviewed`` (``cloud.yaml``; ``as_of`` is its newest price date).
    """

    kind: Literal["gpuhunt", "reviewed"]
    file: str
    as_of: dt.date
    gpuhunt_version: str | None = None


def read_snapshot_header(path: Path) -> SnapshotHeader:
    """The ``snapshot`` section of ``path``; errors name the file and the field."""
    data = read_yaml_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("snapshot"), dict):
        raise CatalogError(f"{path.name}: expected a mapping under top-level key 'snapshot'")
    try:
        return SnapshotHeader.model_validate(data["snapshot"])
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise CatalogError(f"{path.name}: snapshot: field '{field}': {err['msg']}") from None


__all__ = ["SNAPSHOT_FILE", "REVIEWED_FILE", "SnapshotHeader", "ProviderCounts", "UnmappedGpu",
           "NotLoaded", "OffersSource", "read_snapshot_header"]
