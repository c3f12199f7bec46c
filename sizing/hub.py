"""A model named by its Hugging Face id: config, file sizes and weight-file headers.

:func:`fetch_hub_model` reads what sizing a model needs from a Hub repository
without downloading its weights:

- the file listing with sizes and the resolved commit, from the model-info
  endpoint (``GET /api/models/{repo}/revision/{rev}?blobs=true``, what
  ``HfApi.model_info(..., files_metadata=True)`` calls);
- ``config.json`` (and ``preprocessor_config.json`` / ``processor_config.json``
  when the repository has them) with ``hf_hub_download`` (``HEAD`` then ``GET``
  on ``/{repo}/resolve/{commit}/{file}``, which needs the ``X-Repo-Commit`` and
  ``ETag`` headers), kept in huggingface_hub's cache;
- safetensors headers with HTTP range requests on the same ``resolve`` URL: the
  first 100 kB, then the rest of the header if it is longer, as
  ``HfApi.parse_safetensors_file_metadata`` does (format: an 8-byte
  little-endian header length, then a JSON header of dtype, shape and data
  offsets per tensor, https://huggingface.co/docs/safetensors/index#format),
  parsed and summed by :mod:`sizing.safetensors_file` (exact counts and bytes
  per dtype, the vision tower apart, packed quantized weights unpacked);
- GGUF headers with range requests too: 1 MiB first, growing until the header
  parses (:func:`sizing.gguf_file.parse_gguf_bytes` says how many bytes it
  needs; GGUF spec https://github.com/ggml-org/ggml/blob/master/docs/gguf.md),
  at most ``GGUF_MAX_HEADER_BYTES``; the same for every part of a split file
  and for the vision projector (``mmproj*.gguf``).

This module fetches bytes; :mod:`sizing.gguf_file` and
:mod:`sizing.safetensors_file` parse them, as they parse local files.

All requests go through huggingface_hub (``get_session``, ``build_hf_headers``,
``hf_raise_for_status``), so ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` are honoured;
``HF_ENDPOINT`` is read when called (huggingface_hub reads it once, at import)
and passed on. Timeouts are short (``HF_HUB_ETAG_TIMEOUT``, else 10 s), and
huggingface_hub's retries with back-off are not used, so an unreachable Hub is
known within one timeout.

Everything read is cached on disk: the config files in huggingface_hub's cache,
the listing, the revision's commit and the header bytes in RigFit's cache. A
commit's files never change, so a cached header is used even when online.
Offline (``HF_HUB_OFFLINE=1``) or when the Hub cannot be reached, the cache
answers; with no cache, :class:`HubUnreachableError` says so in one line.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

# huggingface_hub's user agent otherwise asks the Hub for a list of AI agents on the
# first request (a call that costs a timeout when the Hub is unreachable); sizing a
# model sends nothing about its user.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from huggingface_hub import HfApi, get_token, hf_hub_download  # noqa: E402
from huggingface_hub import constants as hf_constants  # noqa: E402
from huggingface_hub import errors as hf_errors  # noqa: E402
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status  # noqa: E402
from huggingface_hub.utils.tqdm import silent_tqdm  # noqa: E402

from catalog.errors import UserError, echo  # noqa: E402
from catalog.schema import ModelArch  # noqa: E402
from sizing.architecture import MAX_CONFIG_BYTES, ModelInputError, parse_hf_config_text  # noqa: E402
from sizing import gguf_file, safetensors_file  # noqa: E402
from sizing.gguf_file import GgufHeaderIncomplete, GgufModel, GgufTensor, parse_gguf_bytes  # noqa: E402
from sizing.safetensors_file import SafetensorsHeader, SafetensorsModel  # noqa: E402

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_TIMEOUT_S = 10.0  # huggingface_hub's own default for metadata calls
GGUF_FIRST_READ_BYTES = 1024 * 1024
GGUF_MAX_HEADER_BYTES = 64 * 1024 * 1024  # the largest tokenizers take ~10 MiB
SAFETENSORS_FIRST_READ_BYTES = 100_000  # as HfApi.parse_safetensors_file_metadata
SAFETENSORS_MAX_HEADER_BYTES = safetensors_file.DEFAULT_MAX_HEADER_BYTES
MAX_NAME_CHARS = 96  # huggingface_hub's validate_repo_id: namespace and name, 96 each
HEADER_READ_WORKERS = 8  # sharded checkpoints: headers read in parallel
CONFIG_FILE = "config.json"
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
QUANTIZE_CONFIG_FILE = "quantize_config.json"  # older GPTQ checkpoints
CACHE_FORMAT = 1  # bump when the on-disk record changes

_NAME = re.compile(r"^\w(?:[\w.-]*\w)?$", re.ASCII)
_REVISION = re.compile(r"^[\w][\w./+-]*$", re.ASCII)
_QUANT_TAG = re.compile(r"^[\w.+-]{1,64}$", re.ASCII)
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.IGNORECASE)
_SHARD = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)


def _token(tag: str) -> re.Pattern[str]:
    """A quant tag as a whole word of a file name (``UD-Q4_K_M`` has Q4_K_M, ``IQ4_K_M`` has not)."""
    return re.compile(r"(?<![A-Za-z0-9])" + tag + r"(?![A-Za-z0-9])", re.IGNORECASE)


# The default GGUF: a Q4_K_M file, else Q4_K_S, else the smallest 4-bit file
# (Q4_0, Q4_1, Q4_K_XL, IQ4_XS, IQ4_NL, MXFP4), else the smallest file.
_DEFAULT_QUANTS = tuple((tag, _token(tag)) for tag in ("Q4_K_M", "Q4_K_S"))
_FOUR_BIT = re.compile(r"(?<![A-Za-z0-9])(?:I?Q4|MXFP4)", re.IGNORECASE)


class HubError(UserError):
    """The Hub answered, but not with a model RigFit can read; the message says why."""


class HubUnreachableError(HubError):
    """The Hub cannot be reached and the model is not in the cache."""


class HubAccessError(HubError):
    """The repository is gated or private and needs a token (HF_TOKEN)."""


class HubNotFoundError(HubError):
    """No such repository, revision or file."""


@dataclass(frozen=True)
class SafetensorsInfo:
    """A safetensors checkpoint of a repository and what its headers say."""

    files: tuple[str, ...]  # the shards, in order
    file_bytes: int  # the files' sizes, summed
    model: SafetensorsModel  # sizing.safetensors_file's reading of the headers (exact counts)
    header_paths: tuple[str, ...]  # each file's header bytes (8 + N), kept in the cache

    @property
    def params_by_dtype(self) -> dict[str, int]:
        return self.model.params_by_dtype

    @property
    def bytes_by_dtype(self) -> dict[str, int]:
        return self.model.bytes_by_dtype

    @property
    def params_total(self) -> int:
        return self.model.params_total

    @property
    def tensor_bytes(self) -> int:
        return self.model.tensors_bytes

    @property
    def tensor_count(self) -> int:
        return len(self.model.tensors)

    @property
    def vision_params(self) -> int:
        return self.model.vision_params

    @property
    def vision_bytes(self) -> int:
        return self.model.vision_bytes


@dataclass(frozen=True)
class GgufInfo:
    """One GGUF file of a repository (or a split file's parts) and what its headers say."""

    files: tuple[str, ...]  # one name, or the parts of a split file in order
    file_bytes: int  # the files' sizes, summed
    model: GgufModel  # sizing.gguf_file's reading of the header(s): arch, tensors, host bytes
    header_paths: tuple[str, ...]  # each file's header bytes, kept in the cache

    @property
    def name(self) -> str:
        return self.files[0]

    @property
    def metadata(self) -> Any:
        """The model's metadata (a split file keeps it in its first part)."""
        return self.model.metadata

    @property
    def architecture(self) -> str:
        return self.model.architecture

    @property
    def tensors(self) -> tuple[GgufTensor, ...]:
        return self.model.tensors

    @property
    def bytes_by_type(self) -> dict[str, int]:
        return self.model.bytes_by_type

    @property
    def tensor_bytes(self) -> int:
        return self.model.tensors_bytes


@dataclass(frozen=True)
class HubModel:
    """A Hub model as read by :func:`fetch_hub_model`."""

    repo_id: str
    revision: str  # the resolved commit (40 hex digits)
    requested_revision: str  # what was asked for: a branch, tag or commit
    endpoint: str
    config: dict[str, Any] | None  # config.json, None for a GGUF-only repository
    preprocessor_config: dict[str, Any] | None
    processor_config: dict[str, Any] | None
    arch: ModelArch | None  # from config.json, else from the GGUF header
    arch_error: ModelInputError | None  # why config.json could not be read, for a GGUF repository
    files: tuple[tuple[str, int], ...]  # every file in the repository: (name, size_bytes)
    weight_format: Literal["safetensors", "gguf"] | None
    gguf_choices: tuple[tuple[str, int], ...]  # GGUF model files: (first file, size_bytes)
    gguf: GgufInfo | None  # the chosen GGUF file
    mmproj: GgufInfo | None  # the vision projector GGUF, when the repository has one
    safetensors: SafetensorsInfo | None
    from_cache: bool  # True when the Hub was not reached and the cache answered
    source: str = "hf-id"

    @property
    def url(self) -> str:
        return f"{self.endpoint}/{self.repo_id}"

    @property
    def gguf_file(self) -> str | None:
        return self.gguf.name if self.gguf else None

    @property
    def mmproj_file(self) -> str | None:
        return self.mmproj.name if self.mmproj else None

    @property
    def mmproj_size_bytes(self) -> int | None:
        return self.mmproj.file_bytes if self.mmproj else None

    @property
    def params_by_dtype(self) -> dict[str, int] | None:
        return self.safetensors.params_by_dtype if self.safetensors else None

    @property
    def safetensors_bytes(self) -> int | None:
        return self.safetensors.tensor_bytes if self.safetensors else None

    @property
    def file_bytes(self) -> int | None:
        """Bytes of the weight files that would be downloaded (the vision projector apart)."""
        if self.gguf is not None:
            return self.gguf.file_bytes
        if self.safetensors is not None:
            return self.safetensors.file_bytes
        return None


# --- Names the user typed ------------------------------------------------------------


def validate_repo_id(text: str) -> str:
    """``ORG/NAME`` (or its huggingface.co URL) checked as huggingface_hub does, else a HubError.

    >>> validate_repo_id("https://huggingface.co/Qwen/Qwen3-8B/tree/main")
    'Qwen/Qwen3-8B'
    """
    raw = str(text).strip()
    if _URL_PREFIX.match(raw):
        raw = "/".join(_URL_PREFIX.sub("", raw).split("/")[:2])
    parts = raw.split("/")
    ok = (len(parts) == 2 and all(_NAME.match(p) and len(p) <= MAX_NAME_CHARS for p in parts)
          and ".." not in raw and "--" not in raw)
    if not ok:
        raise HubError(
            f"Hugging Face model id must be ORG/NAME (letters, digits, '-', '_', '.'; at most "
            f"{MAX_NAME_CHARS} characters each), got {str(text)[:120]!r}", code="hub_repo_id",
            params={"max_chars": MAX_NAME_CHARS, "got": echo(repr(str(text)[:120]))})
    return raw


def _validate_revision(revision: str | None) -> str:
    if revision is None:
        return hf_constants.DEFAULT_REVISION
    text = str(revision).strip()
    if not (len(text) <= 200 and _REVISION.match(text) and ".." not in text):
        raise HubError(f"revision must be a branch, tag or commit, got {str(revision)[:120]!r}",
                       code="hub_revision", params={"got": echo(repr(str(revision)[:120]))})
    return text


def _validate_hf_file(hf_file: str | None) -> str | None:
    if hf_file is None:
        return None
    text = str(hf_file).strip()
    parts = text.split("/")
    if text.lower().endswith(".gguf"):
        ok = (len(text) <= 500 and "\\" not in text
              and all(p and p not in (".", "..") for p in parts))
    else:
        ok = bool(_QUANT_TAG.match(text))
    if not ok:
        raise HubError(f"--hf-file must be a .gguf file of the repository or a quant such as "
                       f"Q4_K_M, got {str(hf_file)[:120]!r}", code="hub_file_arg",
                       params={"got": echo(repr(str(hf_file)[:120]))})
    return text


def hub_model_id(repo_id: str) -> str:
    """A catalog-style id for a Hub model: lowercase, joined by '-'.

    >>> hub_model_id("Qwen/Qwen2.5-7B-Instruct")
    'qwen-qwen2.5-7b-instruct'
    """
    text = re.sub(r"[^a-z0-9._-]+", "-", repo_id.lower())
    text = re.sub(r"[-._]*([-._])[-._]*", r"\1", text).strip("-._")
    return text or "hf-model"


def hub_endpoint() -> str:
    """``HF_ENDPOINT`` as set now, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) as set now, or as huggingface_hub read it."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"} or hf_constants.HF_HUB_OFFLINE


def _timeout_s(timeout_s: float | None) -> float:
    if timeout_s is not None:
        return float(timeout_s)
    try:
        return float(os.environ.get("HF_HUB_ETAG_TIMEOUT") or DEFAULT_TIMEOUT_S)
    except ValueError:
        return DEFAULT_TIMEOUT_S


def default_cache_dir() -> Path:
    """RigFit's Hub cache: ``RIGFIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/rigfit`` or ``~/.cache/rigfit``."""
    explicit = os.environ.get("RIGFIT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "rigfit"


# --- The disk cache ------------------------------------------------------------------


class _Store:
    """RigFit's cache for one repository: revision -> commit, commit -> listing, header bytes."""

    def __init__(self, root: Path, repo_id: str) -> None:
        self.dir = root / "hub" / ("models--" + repo_id.replace("/", "--"))

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _ref_path(self, revision: str) -> Path:
        return self.dir / "refs" / quote(revision, safe="")

    def commit_of(self, revision: str) -> str | None:
        if _COMMIT.match(revision):
            return revision
        try:
            commit = self._ref_path(revision).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return commit if _COMMIT.match(commit) else None

    def listing(self, commit: str) -> list[tuple[str, int]] | None:
        try:
            record = json.loads((self.dir / "commits" / f"{commit}.json").read_text(encoding="utf-8"))
            if record.get("format") != CACHE_FORMAT:
                return None
            return [(str(name), int(size)) for name, size in record["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, revision: str, commit: str, files: list[tuple[str, int]]) -> None:
        record = {"format": CACHE_FORMAT, "commit": commit, "files": files}
        self._write(self.dir / "commits" / f"{commit}.json", json.dumps(record, allow_nan=False).encode())
        self._write(self._ref_path(revision), commit.encode())

    def head_path(self, commit: str, name: str) -> Path:
        return self.dir / "heads" / commit / (quote(name, safe="") + ".head")

    def read_head(self, commit: str, name: str) -> bytes | None:
        try:
            return self.head_path(commit, name).read_bytes()
        except OSError:
            return None

    def write_head(self, commit: str, name: str, data: bytes) -> None:
        self._write(self.head_path(commit, name), data)


class _NotCached(Exception):
    """Offline, and this piece is not in the cache."""


class _More(Exception):
    """A header reader needs at least ``needed_bytes`` of the file."""

    def __init__(self, needed_bytes: int) -> None:
        super().__init__(needed_bytes)
        self.needed_bytes = needed_bytes


class _Hub:
    """Reads one repository, from the Hub (online) or from the cache alone (offline)."""

    def __init__(self, repo_id: str, *, endpoint: str, timeout_s: float, cache_root: Path,
                 hf_cache: str | None, online: bool) -> None:
        self.repo_id = repo_id
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.store = _Store(cache_root, repo_id)
        self.hf_cache = hf_cache
        self.online = online

    def resolve(self, revision: str) -> tuple[str, list[tuple[str, int]]]:
        """The commit a revision names and its files with sizes."""
        if self.online:
            info = HfApi(endpoint=self.endpoint).model_info(
                self.repo_id, revision=revision, files_metadata=True, timeout=self.timeout_s)
            commit = str(info.sha or "")
            if not _COMMIT.match(commit):
                raise HubError(f"the Hub at {self.endpoint} gave no commit for {self.repo_id}",
                               code="hub_no_commit",
                               params={"endpoint": echo(self.endpoint), "repo": echo(self.repo_id)})
            files = []
            for sibling in info.siblings or []:
                size = sibling.lfs.size if sibling.lfs else sibling.size
                files.append((sibling.rfilename, int(size or 0)))
            return commit, files
        commit = self.store.commit_of(revision)
        files = self.store.listing(commit) if commit else None
        if commit is None or files is None:
            raise _NotCached(f"{self.repo_id}@{revision}")
        return commit, files

    def text(self, commit: str, name: str, size_bytes: int, limit_bytes: int) -> bytes:
        """A small file (a config, an index) through huggingface_hub's cache."""
        if size_bytes > limit_bytes:
            raise HubError(f"{self.repo_id}: {name} is {size_bytes / 2**20:.1f} MiB; more than the "
                           f"{limit_bytes / 2**20:g} MiB such a file can take",
                           code="hub_file_too_large",
                           params={"repo": echo(self.repo_id), "file": echo(name),
                                   "size_mib": f"{size_bytes / 2**20:.1f}",
                                   "limit_mib": f"{limit_bytes / 2**20:g}"})
        try:
            path = hf_hub_download(
                self.repo_id, name, revision=commit, cache_dir=self.hf_cache, endpoint=self.endpoint,
                etag_timeout=self.timeout_s, local_files_only=not self.online, tqdm_class=silent_tqdm)
        except hf_errors.LocalEntryNotFoundError:
            if self.online:
                raise
            raise _NotCached(name) from None
        with open(path, "rb") as handle:
            return handle.read(limit_bytes + 1)

    def _range(self, commit: str, name: str, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop - 1`` of a file, never reading more even if Range is ignored."""
        # The URL hf_hub_url builds, from the endpoint given rather than the one read at import.
        url = f"{self.endpoint}/{self.repo_id}/resolve/{quote(commit, safe='')}/{quote(name)}"
        headers = build_hf_headers(headers={"Range": f"bytes={start}-{stop - 1}",
                                            "Accept-Encoding": "identity"})
        with get_session().stream("GET", url, headers=headers, timeout=self.timeout_s) as response:
            if response.status_code >= 400:
                response.read()
                hf_raise_for_status(response)
            if response.status_code == 206:
                skip = 0
                content_range = response.headers.get("Content-Range", "")
                if not content_range.startswith(f"bytes {start}-"):
                    raise HubError(f"{self.repo_id}: the Hub answered a range request for {name} "
                                   f"with the wrong range ({content_range[:60]!r})",
                                   code="hub_bad_range",
                                   params={"repo": echo(self.repo_id), "file": echo(name),
                                           "range": echo(repr(content_range[:60]))})
            else:
                hf_raise_for_status(response)
                skip = start  # Range ignored: the body starts at byte 0
            chunks, have = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                have += len(chunk)
                if have >= skip + stop - start:
                    break
        data = b"".join(chunks)[skip:skip + stop - start]
        if len(data) < stop - start:
            raise HubError(f"{self.repo_id}: {name} ended after {start + len(data)} bytes while "
                           f"reading its header", code="hub_file_ended",
                           params={"repo": echo(self.repo_id), "file": echo(name),
                                   "end": start + len(data)})
        return data

    def prefix(self, commit: str, name: str, size_bytes: int,
               probe: Callable[[bytes], tuple[Any, int]], *,
               first_bytes: int, max_bytes: int) -> tuple[Any, str]:
        """Read a file's start until ``probe`` parses it; returns the parse and the cached copy's path.

        ``probe`` returns the parse and the bytes it used (the header), which
        are what is cached, or raises :class:`_More` with the bytes it needs. A parse of the
        cache is used first (a commit's files never change); online, the bytes
        are read with range requests, growing at least twofold each time.
        """
        cached = self.store.read_head(commit, name)
        if cached is not None:
            try:
                return probe(cached)[0], str(self.store.head_path(commit, name))
            except _More:
                pass
        if not self.online:
            raise _NotCached(name)
        data = b""
        want = min(first_bytes, size_bytes)
        while True:
            if want > len(data):
                data += self._range(commit, name, len(data), want)
            try:
                parsed, used_bytes = probe(data)
                break
            except _More as more:
                needed = more.needed_bytes
            if needed > size_bytes:
                raise HubError(f"{self.repo_id}: {name} ends inside its header ({size_bytes} bytes); "
                               "the file is truncated", code="hub_header_truncated",
                               params={"repo": echo(self.repo_id), "file": echo(name),
                                       "size_bytes": size_bytes}) from None
            if needed > max_bytes:
                raise HubError(f"{self.repo_id}: the header of {name} is longer than "
                               f"{max_bytes / 2**20:g} MiB; RigFit reads at most that",
                               code="hub_header_too_large",
                               params={"repo": echo(self.repo_id), "file": echo(name),
                                       "limit_mib": f"{max_bytes / 2**20:g}"}) from None
            want = min(size_bytes, max_bytes, max(needed, 2 * len(data)))
        self.store.write_head(commit, name, data[:used_bytes])
        return parsed, str(self.store.head_path(commit, name))


# --- Safetensors ---------------------------------------------------------------------


def _safetensors_probe(name: str, size_bytes: int) -> Callable[[bytes], tuple[SafetensorsHeader, int]]:
    """Parse with sizing.safetensors_file: the 8-byte length first, then the N header bytes."""
    def probe(data: bytes) -> tuple[SafetensorsHeader, int]:
        if len(data) < 8:
            raise _More(8)
        length = safetensors_file.header_length(data[:8], source=name, file_bytes=size_bytes,
                                                max_header_bytes=SAFETENSORS_MAX_HEADER_BYTES)
        if len(data) < 8 + length:
            raise _More(8 + length)
        header = safetensors_file.parse_header(bytes(data[8:8 + length]), source=name,
                                               data_bytes=size_bytes - 8 - length)
        return header, 8 + length
    return probe


def _safetensors_files(hub: _Hub, commit: str, sizes: dict[str, int]) -> tuple[list[str], dict | None]:
    """The checkpoint's files and weight map, chosen as sizing.safetensors_file does in a folder.

    A top-level ``*.safetensors.index.json`` (``model.safetensors.index.json``
    first) names the shards; else the top-level ``model*.safetensors`` files,
    else every top-level ``.safetensors`` file.
    """
    top = sorted(n for n in sizes if "/" not in n)
    indexes = [n for n in top if n.endswith(".safetensors.index.json")]
    if indexes:
        index_name = SAFETENSORS_INDEX_FILE if SAFETENSORS_INDEX_FILE in indexes else indexes[0]
        _, index = _json_file(hub, commit, index_name, sizes,
                              limit_bytes=safetensors_file.MAX_INDEX_BYTES)
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise HubError(f"{hub.repo_id}: {index_name} has no weight_map", code="hub_no_weight_map",
                           params={"repo": echo(hub.repo_id), "file": echo(index_name)})
        shards = sorted({str(v) for v in weight_map.values()})
        missing = [s for s in shards if s not in sizes]
        if missing:
            raise HubError(f"{hub.repo_id}: {index_name} names files the repository does not "
                           f"have: {', '.join(missing[:3])}", code="hub_index_missing_files",
                           params={"repo": echo(hub.repo_id), "file": echo(index_name),
                                   "files": echo(", ".join(missing[:3]), max_chars=300)})
        return shards, weight_map
    files = [n for n in top if n.endswith(".safetensors")]
    return [n for n in files if n.startswith("model")] or files, None


def _read_safetensors(hub: _Hub, commit: str, names: list[str], weight_map: dict | None,
                      sizes: dict[str, int], config: dict[str, Any] | None) -> SafetensorsInfo:
    def read(name: str) -> tuple[SafetensorsHeader, str]:
        return hub.prefix(commit, name, sizes[name], _safetensors_probe(name, sizes[name]),
                          first_bytes=SAFETENSORS_FIRST_READ_BYTES,
                          max_bytes=8 + SAFETENSORS_MAX_HEADER_BYTES)

    with ThreadPoolExecutor(max_workers=HEADER_READ_WORKERS) as pool:
        results = list(pool.map(read, names))
    headers = [header for header, _ in results]
    if weight_map is not None:
        present = {(t.file, t.name) for h in headers for t in h.tensors}
        for tensor, shard in weight_map.items():
            if (shard, tensor) not in present:
                raise HubError(f"{hub.repo_id}: {shard} lacks tensor {str(tensor)[:80]!r} that the "
                               "index puts there", code="hub_shard_lacks_tensor",
                               params={"repo": echo(hub.repo_id), "file": echo(shard),
                                       "tensor": echo(tensor)})
    quantize_config = (_json_file(hub, commit, QUANTIZE_CONFIG_FILE, sizes)[1]
                       if QUANTIZE_CONFIG_FILE in sizes else None)
    file_bytes = sum(sizes[n] for n in names)
    model = safetensors_file.summarize(
        headers, config=config, quantize_config=quantize_config, source=hub.repo_id,
        file_bytes=file_bytes, model_id=hub_model_id(hub.repo_id), name=hub.repo_id)
    return SafetensorsInfo(tuple(names), file_bytes, model, tuple(path for _, path in results))


# --- GGUF ----------------------------------------------------------------------------


def _gguf_probe(name: str, size_bytes: int, model_id: str, max_header_bytes: int, *,
                summarize: bool) -> Callable[[bytes], tuple[Any, int]]:
    """Parse with sizing.gguf_file: a whole model (``summarize``) or one part's raw header."""
    def probe(data: bytes) -> tuple[Any, int]:
        try:
            if summarize:
                model = parse_gguf_bytes(data, source=name, file_bytes=size_bytes, model_id=model_id,
                                         max_header_bytes=max_header_bytes)
                return model, min(len(data), model.header_bytes)
            # A later part of a split file has no architecture of its own: read its header
            # alone, as gguf_file.read_gguf does for the parts of a local split file.
            header = gguf_file.read_part_header(data, source=name, file_bytes=size_bytes,
                                                max_header_bytes=max_header_bytes)
            return header, min(len(data), header.data_offset_bytes)
        except GgufHeaderIncomplete as short:
            raise _More(short.needed_bytes) from None
    return probe


def _is_mmproj(name: str) -> bool:
    return "mmproj" in name.rsplit("/", 1)[-1].lower()


def gguf_groups(files: list[tuple[str, int]]) -> list[tuple[tuple[str, ...], int]]:
    """The GGUF model files of a listing, the parts of a split file together: (names, bytes).

    >>> gguf_groups([("a-Q8_0.gguf", 8), ("q4/a-Q4_K_M-00002-of-00002.gguf", 2),
    ...              ("q4/a-Q4_K_M-00001-of-00002.gguf", 3), ("mmproj-f16.gguf", 1)])
    [(('a-Q8_0.gguf',), 8), (('q4/a-Q4_K_M-00001-of-00002.gguf', 'q4/a-Q4_K_M-00002-of-00002.gguf'), 5)]
    """
    groups: dict[str, list[tuple[str, int]]] = {}
    for name, size in files:
        if not name.lower().endswith(".gguf") or _is_mmproj(name):
            continue
        shard = _SHARD.match(name)
        key = shard.group("stem") if shard else name
        groups.setdefault(key, []).append((name, size))
    out = [(tuple(n for n, _ in sorted(parts)), sum(s for _, s in parts)) for parts in groups.values()]
    return sorted(out)


def _plain_first(matches: list[tuple[tuple[str, ...], int]],
                 tag: str) -> list[tuple[tuple[str, ...], int]]:
    """The plain quant before Unsloth's dynamic variant of it (``Q4_K_M`` before ``UD-Q4_K_M``)."""
    dynamic = re.compile(r"UD-" + tag, re.IGNORECASE)
    plain = [g for g in matches if not dynamic.search(g[0][0])]
    return plain or matches


def _default_gguf(groups: list[tuple[tuple[str, ...], int]]) -> tuple[tuple[str, ...], int]:
    """Q4_K_M, else Q4_K_S, else the smallest 4-bit file, else the smallest file.

    Among several files of the quant, the plain one before a ``UD-`` variant, then the smallest.
    """
    by_size = sorted(groups, key=lambda g: (g[1], g[0]))
    for tag, pattern in _DEFAULT_QUANTS:
        matches = [g for g in by_size if pattern.search(g[0][0])]
        if matches:
            return _plain_first(matches, tag)[0]
    four_bit = [g for g in by_size if _FOUR_BIT.search(g[0][0])]
    return (four_bit or by_size)[0]


def _pick_gguf(repo_id: str, groups: list[tuple[tuple[str, ...], int]],
               hf_file: str | None) -> tuple[tuple[str, ...], int]:
    """The group ``hf_file`` names: a file's path, its base name, or a quant tag such as Q5_K_M."""
    if hf_file is None:
        return _default_gguf(groups)
    matches = [g for g in groups if hf_file in g[0]]
    if not matches:
        matches = [g for g in groups if hf_file in [n.rsplit("/", 1)[-1] for n in g[0]]]
    if not matches and not hf_file.lower().endswith(".gguf"):
        tag = re.escape(hf_file)
        matches = _plain_first([g for g in groups if _token(tag).search(g[0][0])], tag)
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(g[0][0] for g in matches[:4])
        raise HubError(f"{repo_id}: '{hf_file}' matches several GGUF files ({shown}); "
                       "pass the file's path in the repository", code="hub_file_ambiguous",
                       params={"repo": echo(repo_id), "file": echo(hf_file),
                               "matches": echo(shown, max_chars=400)})
    shown = ", ".join(g[0][0] for g in groups[:6])
    params = {"repo": echo(repo_id), "file": echo(hf_file), "files": echo(shown, max_chars=400)}
    if len(groups) > 6:
        params["more"] = len(groups) - 6
        raise HubNotFoundError(f"{repo_id} has no GGUF file '{hf_file}'; it has: {shown} and "
                               f"{params['more']} more", code="hub_no_such_gguf_more", params=params)
    raise HubNotFoundError(f"{repo_id} has no GGUF file '{hf_file}'; it has: {shown}",
                           code="hub_no_such_gguf", params=params)


def _pick_mmproj(files: list[tuple[str, int]]) -> tuple[str, int] | None:
    """The vision projector: an F16 one if there is, else BF16, else the smallest."""
    found = sorted(((n, s) for n, s in files if n.lower().endswith(".gguf") and _is_mmproj(n)),
                   key=lambda f: (f[1], f[0]))
    for tag in ("F16", "BF16"):
        matches = [f for f in found if _token(tag).search(f[0])]
        if matches:
            return matches[0]
    return found[0] if found else None


def _read_gguf(hub: _Hub, commit: str, names: tuple[str, ...], sizes: dict[str, int],
               max_header_bytes: int) -> GgufInfo:
    """Read one GGUF file's header, or every part of a split file and join them as read_gguf does."""
    model_id = hub_model_id(hub.repo_id)

    def read(name: str, summarize: bool) -> tuple[Any, str]:
        return hub.prefix(commit, name, sizes[name],
                          _gguf_probe(name, sizes[name], model_id, max_header_bytes,
                                      summarize=summarize),
                          first_bytes=GGUF_FIRST_READ_BYTES, max_bytes=max_header_bytes)

    total_bytes = sum(sizes[n] for n in names)
    if len(names) == 1:
        model, path = read(names[0], True)
        return GgufInfo(names, total_bytes, model, (path,))
    parts = [read(name, False) for name in names]
    headers = [header for header, _ in parts]
    try:
        model = gguf_file.join_split_parts(headers, list(names), file_bytes=total_bytes,
                                           model_id=model_id)
    except ModelInputError as exc:
        raise HubError(f"{hub.repo_id}: {exc}", code=exc.code, params=exc.params) from None
    return GgufInfo(names, total_bytes, model, tuple(path for _, path in parts))


# --- Putting it together -------------------------------------------------------------


def _json_file(hub: _Hub, commit: str, name: str, sizes: dict[str, int], *,
               limit_bytes: int = MAX_CONFIG_BYTES) -> tuple[bytes, dict[str, Any]]:
    raw = hub.text(commit, name, sizes[name], limit_bytes)
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise HubError(f"{hub.repo_id}: {name} is not valid JSON", code="hub_json_invalid",
                       params={"repo": echo(hub.repo_id), "file": echo(name)}) from None
    if not isinstance(value, dict):
        raise HubError(f"{hub.repo_id}: {name} is not a JSON object", code="hub_json_not_object",
                       params={"repo": echo(hub.repo_id), "file": echo(name)})
    return raw, value


def _read_model(hub: _Hub, revision: str, hf_file: str | None, max_header_bytes: int) -> HubModel:
    commit, files = hub.resolve(revision)
    sizes = dict(files)
    config = arch = arch_error = None
    groups = gguf_groups(files)
    if CONFIG_FILE in sizes:
        raw, config = _json_file(hub, commit, CONFIG_FILE, sizes)
        try:
            arch = parse_hf_config_text(raw, model_id=hub_model_id(hub.repo_id), name=hub.repo_id)
        except ModelInputError as exc:
            if not groups:
                raise ModelInputError(f"{hub.repo_id}: {exc}", code=exc.code,
                                      params=exc.params) from None
            arch_error = exc
        if arch is not None:
            arch = arch.model_copy(update={
                "hf_repo": hub.repo_id,
                "source": f"{hub.endpoint}/{hub.repo_id}/blob/{commit}/{CONFIG_FILE}",
                "notes": f"Read from the Hugging Face Hub ({hub.repo_id} at commit {commit[:12]}); "
                         "parameter counts computed from the config.json shapes.",
            })
    processors = {name: _json_file(hub, commit, name, sizes)[1] if name in sizes else None
                  for name in PROCESSOR_FILES}
    safetensors_names, weight_map = (_safetensors_files(hub, commit, sizes) if hf_file is None
                                     else ([], None))
    weight_format: Literal["safetensors", "gguf"] | None = None
    gguf = mmproj = safetensors = None
    if hf_file is not None and not groups:
        raise HubNotFoundError(f"{hub.repo_id} has no GGUF files; leave out the GGUF file choice",
                               code="hub_no_gguf_files", params={"repo": echo(hub.repo_id)})
    if safetensors_names:
        weight_format = "safetensors"
        safetensors = _read_safetensors(hub, commit, safetensors_names, weight_map, sizes, config)
    elif groups:
        weight_format = "gguf"
        names, _ = _pick_gguf(hub.repo_id, groups, hf_file)
        gguf = _read_gguf(hub, commit, names, sizes, max_header_bytes)
        projector = _pick_mmproj(files)
        if projector is not None:
            mmproj = _read_gguf(hub, commit, (projector[0],), sizes, max_header_bytes)
        if arch is None and gguf.model.arch is not None:
            arch = gguf.model.arch.model_copy(update={
                "hf_repo": hub.repo_id, "source": f"{hub.endpoint}/{hub.repo_id}/blob/{commit}/{names[0]}"})
    elif config is None:
        raise HubError(f"{hub.repo_id} has neither a config.json nor GGUF or safetensors files; "
                       "RigFit cannot size it", code="hub_nothing_to_size",
                       params={"repo": echo(hub.repo_id)})
    if hub.online:
        hub.store.save(revision, commit, files)
    return HubModel(
        repo_id=hub.repo_id, revision=commit, requested_revision=revision, endpoint=hub.endpoint,
        config=config, preprocessor_config=processors["preprocessor_config.json"],
        processor_config=processors["processor_config.json"], arch=arch, arch_error=arch_error,
        files=tuple(files), weight_format=weight_format,
        gguf_choices=tuple((names[0], size) for names, size in groups),
        gguf=gguf, mmproj=mmproj, safetensors=safetensors, from_cache=not hub.online,
    )


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _is_transport_error(exc: BaseException) -> bool:
    """A connection, timeout or protocol failure of httpx (named, not imported: see the security tests)."""
    return any(cls.__module__.split(".")[0] == "httpx" and cls.__name__ == "RequestError"
               for cls in type(exc).__mro__)


def _explain(exc: BaseException, repo_id: str, revision: str) -> HubError | None:
    """The one-line error for a failure talking to the Hub; None when the Hub is unreachable."""
    for cause in _causes(exc):
        response = getattr(cause, "response", None)
        status = getattr(response, "status_code", None)
        if not isinstance(cause, hf_errors.HfHubHTTPError) or status is None:
            continue
        if isinstance(cause, hf_errors.GatedRepoError) or status in (401, 403):
            gated = isinstance(cause, hf_errors.GatedRepoError)
            what = "is gated" if gated else "is gated or private, or does not exist"
            params = {"repo": echo(repo_id), "status": status}
            if get_token():
                return HubAccessError(
                    f"{repo_id} {what} (HTTP {status}) and HF_TOKEN does not grant access: accept "
                    "the model's terms on its Hub page or set HF_TOKEN to a token that can read it",
                    code="hub_gated_token" if gated else "hub_private_token", params=params)
            return HubAccessError(f"{repo_id} {what} (HTTP {status}): set HF_TOKEN to a Hugging "
                                  "Face access token that can read it",
                                  code="hub_gated" if gated else "hub_private", params=params)
        params = {"repo": echo(repo_id), "status": status}
        if isinstance(cause, hf_errors.RevisionNotFoundError):
            return HubNotFoundError(f"{repo_id} has no revision '{revision}' on the Hugging Face Hub",
                                    code="hub_no_revision",
                                    params={"repo": echo(repo_id), "revision": echo(revision)})
        if isinstance(cause, hf_errors.RemoteEntryNotFoundError):
            return HubNotFoundError(f"{repo_id}: a file it lists is missing on the Hugging Face Hub "
                                    f"(HTTP {status})", code="hub_listed_file_missing", params=params)
        if status == 404 or isinstance(cause, hf_errors.RepositoryNotFoundError):
            return HubNotFoundError(f"{repo_id} was not found on the Hugging Face Hub (HTTP {status}); "
                                    "check the model id", code="hub_not_found", params=params)
        if status in (408, 429) or status >= 500:
            return None
        return HubError(f"the Hugging Face Hub answered HTTP {status} for {repo_id}",
                        code="hub_http", params=params)
    if any(isinstance(c, (hf_errors.OfflineModeIsEnabled, hf_errors.LocalEntryNotFoundError,
                          hf_errors.FileMetadataError, ConnectionError, TimeoutError))
           or _is_transport_error(c) for c in _causes(exc)):
        return None
    raise exc


def fetch_hub_model(repo_id: str, *, revision: str | None = None, hf_file: str | None = None,
                    cache_dir: str | os.PathLike[str] | None = None, timeout_s: float | None = None,
                    gguf_max_header_bytes: int = GGUF_MAX_HEADER_BYTES) -> HubModel:
    """Read a Hub model's config, file sizes and weight-file headers; see the module docstring.

    ``revision``: a branch, tag or commit (default ``main``). ``hf_file``: for
    a GGUF repository, the file (or a quant such as ``Q5_K_M``) to read; by
    default a Q4_K_M file. ``cache_dir``: where to cache (huggingface_hub's
    files under ``huggingface/``, RigFit's under ``hub/``); default
    huggingface_hub's cache and :func:`default_cache_dir`. ``timeout_s``: per
    request (default ``HF_HUB_ETAG_TIMEOUT`` or 10 s).

    Every failure is a :class:`catalog.errors.UserError` of one line:
    :class:`HubUnreachableError`, :class:`HubAccessError`,
    :class:`HubNotFoundError`, :class:`HubError`, or a
    :class:`sizing.architecture.ModelInputError` for an unusable config.json.
    """
    repo_id = validate_repo_id(repo_id)
    revision = _validate_revision(revision)
    hf_file = _validate_hf_file(hf_file)
    if cache_dir is not None:
        base = Path(cache_dir).expanduser()
        cache_root, hf_cache = base, str(base / "huggingface")
    else:
        cache_root, hf_cache = default_cache_dir(), None
    settings = dict(endpoint=hub_endpoint(), timeout_s=_timeout_s(timeout_s), cache_root=cache_root,
                    hf_cache=hf_cache)
    offline = _offline()
    if not offline:
        try:
            return _read_model(_Hub(repo_id, online=True, **settings), revision, hf_file,
                               gguf_max_header_bytes)
        except UserError:
            raise
        except Exception as exc:  # sorted by _explain, which re-raises anything else
            error = _explain(exc, repo_id, revision)
            if error is not None:
                raise error from None
    try:
        return _read_model(_Hub(repo_id, online=False, **settings), revision, hf_file,
                           gguf_max_header_bytes)
    except _NotCached:
        at = "" if revision == hf_constants.DEFAULT_REVISION else f" at {revision}"
        what = f", {hf_file}" if hf_file else ""
        item = repo_id + ("" if revision == hf_constants.DEFAULT_REVISION else f"@{revision}") + what
        if offline:
            raise HubUnreachableError(
                "cannot reach the Hugging Face Hub; pass a config.json or a file "
                f"(HF_HUB_OFFLINE is set and {repo_id}{at}{what} is not in the cache)",
                code="hub_offline_not_cached", params={"item": echo(item, max_chars=200)}) from None
        raise HubUnreachableError(
            "cannot reach the Hugging Face Hub; pass a config.json or a file "
            f"({repo_id}{at}{what} is not in the cache)",
            code="hub_unreachable", params={"item": echo(item, max_chars=200)}) from None


__all__ = [
    "GgufInfo",
    "HubAccessError",
    "HubError",
    "HubModel",
    "HubNotFoundError",
    "HubUnreachableError",
    "SafetensorsInfo",
    "fetch_hub_model",
    "gguf_groups",
    "hub_endpoint",
    "hub_model_id",
    "validate_repo_id",
]
