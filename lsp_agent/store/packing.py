"""Large strings in transcript rows, stored once as content-addressed, compressed blobs.

A 5 MB edit used to add its text to the store several times over: the tool call's arguments
(in the assistant message, the tool_call event and the tool_calls table) and the diff's old
and new text (in the tool_call_finished event), each raw, beside the compressed snapshots.
Now each string value longer than PACK_ABOVE characters in a message, event or tool call row
goes to `blobs` (the same table the snapshots use, so a diff's text and the file's snapshot
are one blob), and the row holds `{REF: sha256}` in its place, with encoding "blobs".
`blob_refs` records which session uses which blob, so the blob gc keeps them and deleting
the session lets them go. Loading puts the strings back before the rows are validated, so
every reader (session load, ACP session/load, CLI resume) sees the transcript as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from lsp_agent.safe_text import utf8
from lsp_agent.store.db import StoreError
from lsp_agent.store.snapshots import Blob, decode_blob, make_blob, put_blob_row

PACK_ABOVE = 65_536  # characters of one string value; smaller ones stay in the row
REF = "$lsp-agent-blob"  # a dict with this one key stands for the blob's text
BLOBS = "blobs"  # the row's encoding when it holds references ("" is plain JSON)


class _Collision(Exception):
    """The value itself holds a dict with the REF key: store it as it is."""


def _swap(value: Any, found: dict[str, Blob]) -> Any:
    if isinstance(value, str):
        if len(value) <= PACK_ABOVE:
            return value
        blob = make_blob(utf8(value))
        found[blob.sha] = blob
        return {REF: blob.sha}
    if isinstance(value, dict):
        if REF in value:
            raise _Collision
        return {k: _swap(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, found) for v in value]
    return value


def pack(text: str) -> tuple[str, str, dict[str, Blob]]:
    """The row text, its encoding and the blobs it refers to (by sha256), for a JSON
    text; a text with no string over PACK_ABOVE comes back as it is. Call it outside the
    write lock (it parses and hashes)."""
    if len(text) <= PACK_ABOVE:
        return text, "", {}
    found: dict[str, Blob] = {}
    try:
        swapped = _swap(json.loads(text), found)
    except _Collision:
        return text, "", {}
    if not found:
        return text, "", {}
    return json.dumps(swapped, ensure_ascii=False, separators=(",", ":")), BLOBS, found


def put_blobs(conn: sqlite3.Connection, session_id: str, blobs: dict[str, Blob]) -> None:
    """Store the blobs a packed row refers to (once each) and note that the session uses them."""
    for blob in blobs.values():
        put_blob_row(conn, blob)
        conn.execute(
            "INSERT OR IGNORE INTO blob_refs (session_id, sha256) VALUES (?, ?)",
            (session_id, blob.sha),
        )


def _restore(value: Any, texts: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(ref := value.get(REF), str):
            return texts[ref]
        return {k: _restore(v, texts) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, texts) for v in value]
    return value


def _refs(value: Any, into: set[str]) -> None:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(ref := value.get(REF), str):
            into.add(ref)
            return
        for v in value.values():
            _refs(v, into)
    elif isinstance(value, list):
        for v in value:
            _refs(v, into)


def unpack_all(
    conn: sqlite3.Connection, path: object, rows: Iterable[tuple[str, str]]
) -> list[str]:
    """The JSON texts of (data, encoding) rows with every reference replaced by its text."""
    out: list[str] = []
    cache: dict[str, str] = {}
    for data, encoding in rows:
        if not encoding:
            out.append(data)
            continue
        if encoding != BLOBS:
            raise StoreError(f"a transcript row in {path} has an unknown encoding {encoding!r}")
        value = json.loads(data)
        wanted: set[str] = set()
        _refs(value, wanted)
        for sha in wanted - cache.keys():
            row = conn.execute(
                "SELECT data, encoding FROM blobs WHERE sha256 = ?", (sha,)
            ).fetchone()
            if row is None:
                raise StoreError(f"a transcript row in {path} refers to a missing blob {sha}")
            cache[sha] = decode_blob(sha, bytes(row[0]), row[1], path).decode("utf-8", "replace")
        out.append(json.dumps(_restore(value, cache), ensure_ascii=False))
    return out
