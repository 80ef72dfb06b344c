"""Read a GGUF file's metadata (its key-value header), with the standard library only.

Used to choose a chat template and to describe a model without loading it; the tensors
are never read. Large arrays (the tokenizer's vocabulary) are skipped, not kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
_SCALARS = {  # GGUF value type -> struct format
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 16 << 20  # a chat template is a few KB; more means a corrupt file
_KEEP_ARRAY = 64  # arrays longer than this are skipped (vocabularies, merges)


class GGUFError(ValueError):
    """The file is not a GGUF model lsp-agent can read; the message says why."""


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    version: int
    size: int  # bytes on disk
    tensors: int
    metadata: dict[str, Any] = field(repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture") or "")

    @property
    def name(self) -> str:
        return str(self.get("general.name") or self.get("general.basename") or self.path.stem)

    @property
    def chat_template(self) -> str:
        value = self.get("tokenizer.chat_template")
        return value if isinstance(value, str) else ""

    @property
    def context_length(self) -> int | None:
        value = self.get(f"{self.architecture}.context_length")
        return value if isinstance(value, int) and value > 0 else None


class _Reader:
    def __init__(self, f: BinaryIO, endian: str) -> None:
        self.f = f
        self.e = endian

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise GGUFError("the file ends inside its header (truncated download?)")
        return data

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(self.e + fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self, keep: bool = True) -> str:
        n = self.scalar("Q")
        if n > _MAX_STRING:
            raise GGUFError(f"a header string of {n} bytes: not a valid GGUF file")
        if not keep:
            self.f.seek(n, 1)
            return ""
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            return self.array()
        raise GGUFError(f"unknown GGUF value type {kind}")

    def array(self) -> list[Any] | None:
        kind, count = self.scalar("I"), self.scalar("Q")
        keep = count <= _KEEP_ARRAY
        if kind in _SCALARS and not keep:
            self.f.seek(struct.calcsize(_SCALARS[kind]) * count, 1)
            return None
        items = []
        for _ in range(count):
            if kind == _STRING:
                items.append(self.string(keep))
            else:
                items.append(self.value(kind))
        return items if keep else None


def read_gguf(path: Path) -> GGUFInfo:
    """The metadata of a GGUF file; raises GGUFError (or OSError) naming the problem."""
    with path.open("rb") as f:
        if f.read(4) != MAGIC:
            raise GGUFError(f"{path} is not a GGUF file (no GGUF magic at its start)")
        raw_version = f.read(4)
        if len(raw_version) != 4:
            raise GGUFError(f"{path} ends inside its header")
        endian = "<"
        version = struct.unpack("<I", raw_version)[0]
        if version > 0xFFFF:  # written on a big-endian machine
            endian, version = ">", struct.unpack(">I", raw_version)[0]
        if version not in (2, 3):
            raise GGUFError(f"{path}: GGUF version {version} is not supported (2 or 3 is)")
        r = _Reader(f, endian)
        tensors, count = r.scalar("Q"), r.scalar("Q")
        metadata: dict[str, Any] = {}
        for _ in range(count):
            key = r.string()
            metadata[key] = r.value(r.scalar("I"))
    return GGUFInfo(path, version, path.stat().st_size, tensors, metadata)
