"""A local stand-in for the Hugging Face Hub, for tests that must not touch the internet.

It answers the endpoints :mod:`sizing.hub` uses, with the headers
huggingface_hub 1.x requires (huggingface_hub/file_download.py
``get_hf_file_metadata``, hf_api.py ``model_info``):

- ``GET /api/models/{org}/{name}[/revision/{rev}]``: the model info JSON,
  ``sha`` and ``siblings`` with ``size`` (and ``lfs`` for weight files), as the
  Hub answers with ``?blobs=true``;
- ``HEAD``/``GET /{org}/{name}/resolve/{rev}/{path}``: ``X-Repo-Commit``,
  ``ETag`` and ``Content-Length`` for small files; weight files (``.gguf``,
  ``.safetensors``) redirect (302) to ``/cdn/...`` with ``X-Linked-Size`` and
  ``X-Linked-Etag``, as the Hub sends LFS files to its CDN;
- ``GET /cdn/{sha256}`` with ``Range: bytes=a-b`` (206 and ``Content-Range``).

Errors carry ``X-Error-Code`` as the Hub's do (``RepoNotFound``,
``RevisionNotFound``, ``EntryNotFound``, ``GatedRepo``), so huggingface_hub
raises its own error classes. Every request is recorded with its ``Range``
header and the body bytes sent. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".gguf", ".safetensors")


@dataclass
class FakeRepo:
    """One repository: files by path, the commit every revision resolves to, access rules."""

    files: dict[str, bytes]
    sha: str
    revisions: tuple[str, ...] = ("main",)
    access: str = "public"  # public | private (401 without the token) | gated (files need the token)
    token: str | None = None


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    range: str | None
    authorization: str | None
    status: int
    body_bytes: int
    file: str | None = None  # the repository file a resolve or CDN request was for


@dataclass
class _State:
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    blobs: dict[str, tuple[str, str]] = field(default_factory=dict)  # sha256 -> (repo, path)
    seen: list[Seen] = field(default_factory=list)
    fail_status: int | None = None  # answer every request with this status (a Hub outage)
    stall_s: float = 0.0  # wait this long before answering (a Hub that does not answer)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeHub/1"
    state: _State  # set on the subclass made per server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(head=False)

    # -- replies

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *,
              head: bool = False, file: str | None = None) -> None:
        # Recorded before answering: a client may finish (and a test look) before this
        # handler thread returns.
        with self.state.lock:
            self.state.seen.append(Seen(self.command, self.path, self.headers.get("Range"),
                                        self.headers.get("Authorization"), status,
                                        0 if head else len(body), file))
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status: int, code: str | None, *, head: bool, extra: dict | None = None) -> None:
        headers = {"Content-Type": "application/json", **(extra or {})}
        if code:
            headers["X-Error-Code"] = code
        body = json.dumps({"error": code or f"HTTP {status}"}).encode()
        self._send(status, body, headers, head=head)

    def _authorized(self, repo: FakeRepo) -> bool:
        return repo.token is not None and self.headers.get("Authorization") == f"Bearer {repo.token}"

    # -- routing

    def _answer(self, *, head: bool) -> None:
        if self.state.stall_s:
            time.sleep(self.state.stall_s)
        if self.state.fail_status is not None:
            self._error(self.state.fail_status, None, head=head)
            return
        parts = [unquote(p) for p in urlsplit(self.path).path.split("/")[1:]]
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            self._model_info(parts[2] + "/" + parts[3], parts[4:], head=head)
        elif parts[:1] == ["cdn"] and len(parts) == 2:
            self._cdn(parts[1], head=head)
        elif len(parts) >= 5 and parts[2] == "resolve":
            self._resolve(parts[0] + "/" + parts[1], parts[3], "/".join(parts[4:]), head=head)
        else:
            self._error(404, None, head=head)

    def _repo(self, repo_id: str, *, head: bool, files: bool) -> FakeRepo | None:
        repo = self.state.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", head=head)
            return None
        if repo.access == "private" and not self._authorized(repo):
            self._error(401, "RepoNotFound", head=head)
            return None
        if repo.access == "gated" and files and not self._authorized(repo):
            status = 403 if self.headers.get("Authorization") else 401
            self._error(status, "GatedRepo", head=head)
            return None
        return repo

    def _model_info(self, repo_id: str, rest: list[str], *, head: bool) -> None:
        repo = self._repo(repo_id, head=head, files=False)
        if repo is None:
            return
        revision = rest[1] if len(rest) >= 2 and rest[0] == "revision" else "main"
        if revision not in (*repo.revisions, repo.sha):
            self._error(404, "RevisionNotFound", head=head)
            return
        siblings = []
        for name, data in sorted(repo.files.items()):
            entry = {"rfilename": name, "size": len(data), "blobId": hashlib.sha1(data).hexdigest()}
            if name.endswith(LFS_SUFFIXES):
                entry["lfs"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                "pointerSize": 134}
            siblings.append(entry)
        body = json.dumps({"id": repo_id, "modelId": repo_id, "sha": repo.sha,
                           "private": repo.access == "private", "gated": repo.access == "gated",
                           "siblings": siblings}).encode()
        self._send(200, body, {"Content-Type": "application/json"}, head=head)

    def _resolve(self, repo_id: str, revision: str, path: str, *, head: bool) -> None:
        repo = self._repo(repo_id, head=head, files=True)
        if repo is None:
            return
        if revision not in (*repo.revisions, repo.sha):
            self._error(404, "RevisionNotFound", head=head)
            return
        data = repo.files.get(path)
        if data is None:
            self._error(404, "EntryNotFound", head=head, extra={"X-Repo-Commit": repo.sha})
            return
        if path.endswith(LFS_SUFFIXES):
            sha256 = hashlib.sha256(data).hexdigest()
            with self.state.lock:
                self.state.blobs[sha256] = (repo_id, path)
            self._send(302, b"", {"Location": f"/cdn/{sha256}", "X-Repo-Commit": repo.sha,
                                  "X-Linked-Size": str(len(data)), "X-Linked-Etag": f'"{sha256}"',
                                  "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}, head=head, file=path)
            return
        self._ranged(data, {"X-Repo-Commit": repo.sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'},
                     head=head, file=path)

    def _cdn(self, sha256: str, *, head: bool) -> None:
        with self.state.lock:
            where = self.state.blobs.get(sha256)
        if where is None:
            self._error(404, None, head=head)
            return
        repo_id, path = where
        data = self.state.repos[repo_id].files[path]
        self._ranged(data, {"ETag": f'"{sha256}"'}, head=head, file=path)

    def _ranged(self, data: bytes, headers: dict[str, str], *, head: bool, file: str) -> None:
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", **headers}
        spec = self.headers.get("Range")
        if spec is None:
            self._send(200, data, headers, head=head, file=file)
            return
        try:
            unit, _, span = spec.partition("=")
            first_text, _, last_text = span.partition("-")
            first = int(first_text)
            last = min(int(last_text), len(data) - 1) if last_text else len(data) - 1
            if unit.strip() != "bytes" or first < 0 or first > last:
                raise ValueError(spec)
        except ValueError:
            self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"}, head=head, file=file)
            return
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
        self._send(206, data[first:last + 1], headers, head=head, file=file)


class HubServer:
    """The fake Hub in a thread on 127.0.0.1 and a free port; a context manager."""

    def __init__(self) -> None:
        self.state = _State()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_repo(self, repo_id: str, files: dict[str, bytes], *, sha: str | None = None,
                 revisions: tuple[str, ...] = ("main",), access: str = "public",
                 token: str | None = None) -> FakeRepo:
        digest = hashlib.sha1(repo_id.encode())
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name])
        sha = sha or digest.hexdigest()
        repo = FakeRepo(dict(files), sha, revisions, access, token)
        self.state.repos[repo_id] = repo
        return repo

    def set_stall(self, seconds: float) -> None:
        """Wait ``seconds`` before each answer (0: answer at once)."""
        self.state.stall_s = seconds

    def set_failure(self, status: int | None) -> None:
        """Answer everything with ``status`` (e.g. 503), or serve normally again (None)."""
        self.state.fail_status = status

    @property
    def seen(self) -> list[Seen]:
        with self.state.lock:
            return list(self.state.seen)

    def clear(self) -> None:
        with self.state.lock:
            self.state.seen.clear()

    def served_bytes(self, file: str) -> int:
        """Body bytes sent for one repository file, over all requests."""
        return sum(s.body_bytes for s in self.seen if s.file == file)

    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering: later connections are refused."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["FakeRepo", "HubServer", "Seen"]
