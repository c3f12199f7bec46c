"""Reading and validating the YAML catalog.

Every file is a mapping with one top-level key holding a list of entries.
Errors name the file, the entry id and the field, so a broken catalog fails
loudly at start instead of serving wrong numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pydantic
from pydantic import BaseModel, TypeAdapter, ValidationError

CATALOG_DIR = Path(__file__).resolve().parent
# Validated catalogs kept between runs (see load_cached): $RIGFIT_CACHE_DIR (empty: off),
# else $XDG_CACHE_HOME/rigfit, else ~/.cache/rigfit.
CACHE_DIR_ENV = "RIGFIT_CACHE_DIR"
CACHE_FORMAT = 1  # raise when what a cache file holds changes shape
# Catalog caches kept side by side: two installs (or two versions) sharing one cache
# folder each keep theirs instead of deleting the other's on every start.
CACHE_KEEP_FILES = 4

T = TypeVar("T", bound=BaseModel)



class CatalogError(ValueError):
    """A catalog file that cannot be read or does not validate."""


def parse_yaml(text: str) -> object:
    """The data in YAML ``text``, read with the safe loader (no Python objects).

    PyYAML is imported here, not with the module: a run answered from the caches
    (:func:`load_cached`) parses no YAML. libyaml's parser is used when PyYAML was
    built with it: the same safe subset of YAML, about ten times faster than the
    pure-Python one on the catalog's files.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read_yaml_file(path: Path) -> object:
    """The data in the YAML file at ``path``; a file that cannot be read or parsed is a
    :class:`CatalogError` naming it."""
    import yaml

    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: cannot read ({exc})") from None


def read_yaml_entries(path: Path, key: str) -> list[dict]:
    """Raw entries under ``key`` in the YAML file at ``path`` (safe loader only)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path.name}: cannot read file ({exc.strerror})") from None
    import yaml

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


# --- the validated catalog, kept between runs -------------------------------------------

R = TypeVar("R")


def cache_dir() -> Path | None:
    """Where :func:`load_cached` keeps its files, or None when caching is turned off."""
    wanted = os.environ.get(CACHE_DIR_ENV)
    if wanted is not None:
        return Path(wanted) if wanted else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rigfit"


def catalog_key(directory: Path, code: Sequence[Path] | None = None) -> str:
    """A hash of everything a loaded catalog depends on: every YAML file in
    ``directory`` (names and bytes), the code that reads and validates them
    (``code``; by default this package's modules), and the Python and pydantic versions."""
    modules = sorted(CATALOG_DIR.glob("*.py")) if code is None else list(code)
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{sys.version}|{pydantic.VERSION}".encode())
    for path in (*sorted(directory.glob("*.yaml")), *modules):
        data = path.read_bytes()
        digest.update(f"|{path.suffix}|{path.name}|{len(data)}|".encode())
        digest.update(data)
    return digest.hexdigest()


def load_cached(directory: Path, build: Callable[[Path], R], kind: type[R], *,
                cache: Path | None = None, name: str = "catalog",
                code: Sequence[Path] | None = None) -> R:
    """``build(directory)``, or the result of an earlier build of the very same files.

    The result is kept as JSON (pydantic's serialiser for ``kind``) in a file named
    by :func:`catalog_key`, which holds that key again on its first line, so a
    changed catalog file (or validating code) is never answered from the cache. Read
    back, the JSON is validated against ``kind`` again (in pydantic's compiled core:
    milliseconds); a file that does not validate is ignored and rewritten. Only
    catalogs that loaded without error are kept. ``cache`` defaults to :func:`cache_dir`.
    ``name`` starts the file's name (each kind of file keeps its own newest few) and
    ``code`` lists the modules that read the files (:func:`catalog_key`).
    """
    folder = cache if cache is not None else cache_dir()
    if folder is None:
        return build(directory)
    adapter = TypeAdapter(kind)
    key = catalog_key(directory, code)
    path = folder / f"{name}-{key[:32]}.json"
    try:
        stored_key, _, data = path.read_bytes().partition(b"\n")
        if stored_key.decode("ascii") == key:
            return adapter.validate_json(data)
    except OSError:
        pass  # none yet, or a cache folder that cannot be read
    except ValueError:  # pydantic's ValidationError and UnicodeDecodeError are ValueErrors
        pass  # a truncated or foreign file: the catalog is loaded from its files below
    value = build(directory)
    try:
        data = adapter.dump_json(value, exclude=_private_fields(value))
    except ValueError:  # pydantic's serialisation errors: a value JSON cannot hold
        return value
    _store(folder, path, key.encode("ascii") + b"\n" + data, name)
    return value


def _private_fields(value: object) -> set[str] | None:
    """A dataclass's fields named with a leading underscore: lookup tables and caches
    filled in as the value is used, rebuilt from their defaults when read back."""
    if not dataclasses.is_dataclass(value):
        return None
    return {f.name for f in dataclasses.fields(value) if f.name.startswith("_")} or None


def _store(folder: Path, path: Path, data: bytes, name: str) -> None:
    """Write ``data`` to ``path`` whole or not at all, and drop all but the
    :data:`CACHE_KEEP_FILES` most recently written files named ``name-*.json``."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}-", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
        others = [(old.stat().st_mtime_ns, old.name, old) for old in folder.glob(f"{name}-*.json")
                  if old != path]
        for _, _, old in sorted(others, reverse=True)[CACHE_KEEP_FILES - 1:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or full cache folder: the next run loads the files again
