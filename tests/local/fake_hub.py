"""A tiny Hugging Face endpoint on 127.0.0.1 for `models pull` tests (HF_ENDPOINT=its URL):
the file listing (`/api/models/REPO/tree/REV`) and `/REPO/resolve/REV/FILE` (HEAD and GET,
with the headers huggingface_hub reads), serving files from disk. 404 for anything else."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, Path]]) -> None:
        self.repos = repos
        self.requests: list[str] = []
        self._etags: dict[Path, str] = {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                hub.handle(self, body=False)

            def do_GET(self) -> None:
                hub.handle(self, body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def etag(self, path: Path) -> str:
        if path not in self._etags:
            digest = hashlib.sha256()
            with path.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
            self._etags[path] = digest.hexdigest()
        return self._etags[path]

    def handle(self, h: BaseHTTPRequestHandler, *, body: bool) -> None:
        path = unquote(urlsplit(h.path).path)
        self.requests.append(f"{h.command} {path}")
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "tree":
            repo = "/".join(parts[2:4])
            if repo not in self.repos:
                return self.send(h, 404, b'{"error": "Repository not found"}', repo_error=True)
            files = [
                {"type": "file", "path": name, "size": p.stat().st_size, "oid": "0" * 40}
                for name, p in self.repos[repo].items()
            ]
            return self.send(h, 200, json.dumps(files).encode() if body else b"")
        if len(parts) >= 5 and parts[2] == "resolve":
            repo, name = "/".join(parts[:2]), "/".join(parts[4:])
            file = self.repos.get(repo, {}).get(name)
            if file is None:
                return self.send(h, 404, b"", repo_error=repo not in self.repos)
            return self.send_file(h, file, body)
        return self.send(h, 404, b"")

    def send(
        self, h: BaseHTTPRequestHandler, code: int, data: bytes, repo_error: bool = False
    ) -> None:
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        if code == 404:
            h.send_header("X-Error-Code", "RepoNotFound" if repo_error else "EntryNotFound")
        h.end_headers()
        h.wfile.write(data)

    def send_file(self, h: BaseHTTPRequestHandler, file: Path, body: bool) -> None:
        size = file.stat().st_size
        h.send_response(200)
        h.send_header("Content-Length", str(size))
        h.send_header("ETag", f'"{self.etag(file)}"')
        h.send_header("X-Repo-Commit", COMMIT)
        h.send_header("Accept-Ranges", "bytes")
        h.end_headers()
        if body:
            with file.open("rb") as f:
                while block := f.read(1 << 20):
                    h.wfile.write(block)
