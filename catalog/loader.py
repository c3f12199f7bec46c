"""Reading and validating the YAML catalog.

Every file is a mapping with one top-level key holding a list of entries.
Errors name the file, the entry id and the field, so a broken catalog fails
loudly at start instead of serving wrong numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

CATALOG_DIR = Path(__file__).resolve().parent

T = TypeVar("T", bound=BaseModel)

# libyaml's parser when PyYAML was built with it: the same safe subset of YAML,
# about ten times faster than the pure-Python one on the catalog's files.
SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """A catalog file that cannot be read or does not validate."""


def parse_yaml(text: str) -> object:
    """The data in YAML ``text``, read with the safe loader (no Python objects)."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader


def read_yaml_entries(path: Path, key: str) -> list[dict]:
    """Raw entries under ``key`` in the YAML file at ``path`` (safe loader only)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path.name}: cannot read file ({exc.strerror})") from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise CatalogError(f"{path.name}: malformed YAML{where}: {problem}") from None
    if not isinstance(data, dict) or key not in data:
        raise CatalogError(f"{path.name}: expected a mapping with top-level key '{key}'")
    entries = data[key]
    if not isinstance(entries, list):
        raise CatalogError(f"{path.name}: '{key}' must be a list of entries")
    return entries


def _describe(error: dict) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(entry)"
    if error["type"] == "extra_forbidden":
        return f"field '{field}': unknown field (misspelt?)"
    return f"field '{field}': {error['msg']}"


def load_records(path: Path, key: str, model: type[T], *, id_field: str = "id",
                 unique: bool = True) -> tuple[T, ...]:
    """Validate every entry of one catalog file; ids must be unique unless ``unique`` is off."""
    records: list[T] = []
    seen: set[str] = set()
    for index, raw in enumerate(read_yaml_entries(path, key)):
        entry_id = raw.get(id_field) if isinstance(raw, dict) else None
        label = f"entry '{entry_id}'" if entry_id else f"entry #{index + 1}"
        if not isinstance(raw, dict):
            raise CatalogError(f"{path.name}: {label}: must be a mapping of fields")
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
            first = errors[0]  # a misspelt key explains the "missing" field it also causes
            more = len(errors) - 1
            suffix = f" (and {more} more)" if more else ""
            raise CatalogError(f"{path.name}: {label}: {_describe(first)}{suffix}") from None
        record_id = getattr(record, id_field)
        if unique and record_id in seen:
            raise CatalogError(f"{path.name}: {label}: duplicate id '{record_id}'")
        seen.add(record_id)
        records.append(record)
    return tuple(records)


def check_references(
    path_name: str, owner_id: str, field: str, refs: Sequence[str], valid: set[str]
) -> None:
    """Fail naming the entry and field when ``refs`` name ids not in ``valid``."""
    for ref in refs:
        if ref not in valid:
            raise CatalogError(
                f"{path_name}: entry '{owner_id}': field '{field}': unknown id '{ref}'"
            )
