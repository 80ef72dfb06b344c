"""Paging through a file too large to read whole, in bounded memory whatever its lines."""

from __future__ import annotations

import io
from pathlib import Path

from lsp_agent.tools.base import ToolError
from lsp_agent.tools.text import clip_line
from lsp_agent.workspace import BINARY_SNIFF_BYTES

MAX_LINE_CHARS = 2000  # read_file shows at most this much of a line
_CHUNK = 1 << 20  # bytes per read when paging through a file too large to read whole


def disk_window(path: Path, offset: int, limit: int) -> tuple[list[str], bool]:
    """Lines offset..offset+limit-1 of a large file, streamed; (lines, more remain).

    Memory stays bounded whatever the line lengths: a line is kept only as far as read_file
    shows it (MAX_LINE_CHARS), the rest is skipped in chunks and noted as clipped.
    """
    with open(path, "rb", buffering=0) as raw_file, io.BufferedReader(raw_file, _CHUNK) as f:
        if b"\0" in f.peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES]:
            raise ToolError(f"{path.name} is a binary file; it cannot be read as text.")
        number, last = 1, b"\n"  # the line the read position is in; the last byte seen
        rest = b""
        while number < offset:  # count newlines a chunk at a time, keeping nothing
            chunk = f.read1(_CHUNK)
            if not chunk:
                lines = number - 1 + (last != b"\n")
                raise ToolError(
                    f"offset {offset} is past the end of {path.name}, which has {lines} lines."
                )
            newlines = chunk.count(b"\n")
            if number + newlines >= offset:  # the window starts inside this chunk
                cut = -1
                for _ in range(offset - number):
                    cut = chunk.index(b"\n", cut + 1)
                rest = chunk[cut + 1 :]
                break
            number += newlines
            last = chunk[-1:]
        window, more = _lines_from(rest, f, limit)
    if not window:
        raise ToolError(f"offset {offset} is past the end of {path.name}.")
    return window, more


def _lines_from(
    pending: bytes, f: io.BufferedReader[io.FileIO], limit: int
) -> tuple[list[str], bool]:
    """Up to `limit` lines (each clipped for display) from `pending` then the rest of f."""
    keep = MAX_LINE_CHARS * 4 + 4  # enough UTF-8 bytes for MAX_LINE_CHARS characters
    window: list[str] = []
    while True:
        line, ended, pending = _next_line(pending, f, keep)
        if line is None:
            return window, False
        if len(window) == limit:
            return window, True
        text = line.decode("utf-8", "replace").rstrip("\r")
        if ended:
            window.append(clip_line(text, MAX_LINE_CHARS))
            continue
        skipped, pending = _skip_line(pending, f)  # longer than shown: skip, keeping nothing
        shown = text[:MAX_LINE_CHARS]
        hidden = max(0, len(line) + skipped - len(shown.encode("utf-8")))
        window.append(f"{shown}... [line clipped: {hidden} more bytes not shown]")


def _next_line(
    pending: bytes, f: io.BufferedReader[io.FileIO], keep: int
) -> tuple[bytes | None, bool, bytes]:
    """(up to `keep` bytes of the next line, whether its end was seen, bytes after it)."""
    while True:
        nl = pending.find(b"\n", 0, keep)
        if nl >= 0:
            return pending[:nl], True, pending[nl + 1 :]
        if len(pending) >= keep:
            return pending[:keep], False, pending[keep:]
        chunk = f.read1(_CHUNK)
        if not chunk:
            return (pending or None), True, b""
        pending += chunk


def _skip_line(pending: bytes, f: io.BufferedReader[io.FileIO]) -> tuple[int, bytes]:
    """Skip to just past the next newline; (bytes skipped, bytes after the newline)."""
    skipped = 0
    while True:
        nl = pending.find(b"\n")
        if nl >= 0:
            return skipped + nl, pending[nl + 1 :]
        skipped += len(pending)
        pending = f.read1(_CHUNK)
        if not pending:
            return skipped, b""
