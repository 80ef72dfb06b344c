"""Helpers for the local-provider tests: a GGUF header writer, the real test model, a fake
Hugging Face cache, and finding the llama.cpp child processes."""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHILD_MODULE = "lsp_agent.local.child"


def write_gguf(path: Path, metadata: dict[str, Any], *, version: int = 3) -> Path:
    """A GGUF file with this metadata and no tensors (enough for the header reader)."""

    def string(s: str) -> bytes:
        raw = s.encode()
        return struct.pack("<Q", len(raw)) + raw

    def value(v: Any) -> tuple[int, bytes]:
        if isinstance(v, bool):
            return 7, struct.pack("<?", v)
        if isinstance(v, int):
            return 4, struct.pack("<I", v)
        if isinstance(v, float):
            return 6, struct.pack("<f", v)
        if isinstance(v, str):
            return 8, string(v)
        if isinstance(v, list):
            kind = 8 if v and isinstance(v[0], str) else 4
            items = b"".join(value(x)[1] for x in v)
            return 9, struct.pack("<IQ", kind, len(v)) + items
        raise TypeError(v)

    body = b"GGUF" + struct.pack("<IQQ", version, 0, len(metadata))
    for key, v in metadata.items():
        kind, raw = value(v)
        body += string(key) + struct.pack("<I", kind) + raw
    path.write_bytes(body)
    return path


def fake_hub_entry(hub: Path, repo: str, file: str, data: bytes, revision: str = "a" * 40) -> Path:
    """One cached file laid out as huggingface_hub does: blob, snapshot symlink, ref."""
    repo_dir = hub / ("models--" + repo.replace("/", "--"))
    blob = repo_dir / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    entry = repo_dir / "snapshots" / revision / file
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(os.path.relpath(blob, entry.parent))
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)
    return entry


def _live() -> Iterator[tuple[int, int, list[bytes], Path]]:
    """(pid, parent pid, command line, /proc dir) of each live process."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X"):
            yield int(proc.name), int(fields[1]), cmdline, proc


def llama_children(parent: int | None = None) -> list[int]:
    """Running llama.cpp children (of one parent, if given)."""
    return [
        pid
        for pid, ppid, cmdline, _ in _live()
        if CHILD_MODULE.encode() in cmdline and (parent is None or ppid == parent)
    ]


def processes_with_env(key: str, value: str) -> list[int]:
    """Live processes whose environment has KEY=VALUE (children inherit it)."""
    needle = f"{key}={value}".encode()
    found = []
    for pid, _, _, proc in _live():
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                found.append(pid)
        except OSError:
            continue
    return found
