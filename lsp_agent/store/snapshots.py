"""File history for undo: content-addressed snapshots and the changes the agent made."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from lsp_agent.safe_text import clean, utf8
from lsp_agent.store.db import StoreBase, StoreError

Content = bytes | str  # str is stored as UTF-8


class FileChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    session_id: str
    turn: int
    path: str
    before: str | None  # sha256 of the content before; None: the agent created the file
    after: str | None  # sha256 of the content after; None: the agent deleted the file
    created_at: float
    undo_id: int | None  # the undo that reverted it, if any


class PathChange(BaseModel):
    """What some turns did to one path: undo writes `before` back (or deletes the file)."""

    model_config = ConfigDict(frozen=True)

    path: str
    before: str | None  # before the earliest of the changes
    after: str | None  # after the latest of them
    turns: list[int]  # ascending
    change_ids: list[int]  # ascending; pass them to record_undo


class UndoRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    session_id: str
    turns: list[int]
    change_ids: list[int]
    created_at: float


def _bytes(content: Content) -> bytes:
    if isinstance(content, bytes):
        return content
    try:  # bytes that were decoded with surrogateescape come back exactly
        return content.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return utf8(content)


def sha256_hex(content: Content) -> str:
    return hashlib.sha256(_bytes(content)).hexdigest()


_CHANGE_COLUMNS = "id, session_id, turn, path, before_blob, after_blob, created_at, undo_id"


def _change(row: tuple[Any, ...]) -> FileChange:
    cid, sid, turn, path, before, after, created_at, undo_id = row
    return FileChange(
        id=cid,
        session_id=sid,
        turn=turn,
        path=path,
        before=before,
        after=after,
        created_at=created_at,
        undo_id=undo_id,
    )


COMPRESS_ABOVE = 4096  # bytes; smaller snapshots are stored as they are
_ZLIB = "zlib"


def put_blob_row(conn: sqlite3.Connection, blob: Blob | None) -> str | None:
    if blob is None:
        return None
    # Same content, same key: stored once however many changes refer to it.
    conn.execute(
        "INSERT OR IGNORE INTO blobs (sha256, size, data, encoding) VALUES (?, ?, ?, ?)",
        (blob.sha, blob.size, blob.stored, blob.encoding),
    )
    return blob.sha


@dataclass(frozen=True)
class Blob:
    sha: str
    size: int  # of the content itself
    stored: bytes  # what goes in the row
    encoding: str  # "" (raw) or "zlib"


def make_blob(data: bytes) -> Blob:
    """Hashed, and compressed when that pays (done outside the write lock)."""
    sha = hashlib.sha256(data).hexdigest()
    if len(data) > COMPRESS_ABOVE:
        packed = zlib.compress(data, 6)
        if len(packed) < len(data) * 0.9:
            return Blob(sha, len(data), packed, _ZLIB)
    return Blob(sha, len(data), data, "")


def decode_blob(sha256: str, data: bytes, encoding: str, path: object) -> bytes:
    """A blob row's content, as it was stored."""
    if encoding == _ZLIB:
        return zlib.decompress(data)
    if encoding:
        raise StoreError(f"snapshot {sha256} in {path} has an unknown encoding {encoding!r}")
    return data


def _hashed(content: Content | None) -> Blob | None:
    return None if content is None else make_blob(_bytes(content))


class Snapshots(StoreBase):
    def put_blob(self, content: Content) -> str:
        """Store a snapshot; returns its sha256. Unreferenced blobs go at the next gc."""
        blob = make_blob(_bytes(content))
        with self._write() as conn:
            put_blob_row(conn, blob)
        return blob.sha

    def read_blob(self, sha256: str) -> bytes:
        with self._read() as conn:
            row = conn.execute(
                "SELECT data, encoding FROM blobs WHERE sha256 = ?", (sha256,)
            ).fetchone()
        if row is None:
            raise StoreError(f"no snapshot {sha256} in {self.path}", self.path)
        return decode_blob(sha256, bytes(row[0]), row[1], self.path)

    def record_change(
        self,
        session_id: str,
        turn: int,
        path: str | os.PathLike[str],
        before: Content | None,
        after: Content | None,
    ) -> FileChange:
        """Record one agent edit: `before` None if it created the file, `after` None if it
        deleted it. Call it before writing, so a crash mid-write still leaves the old text."""
        old, new = _hashed(before), _hashed(after)  # hash outside the write lock
        now = time.time()
        with self._write() as conn:
            self._require_session(conn, session_id)
            where = clean(os.fspath(path))  # SQLite text is UTF-8 only
            row = (session_id, turn, where, put_blob_row(conn, old), put_blob_row(conn, new), now)
            cur = conn.execute(
                "INSERT INTO file_changes (session_id, turn, path, before_blob, after_blob,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
        return _change((cur.lastrowid, *row, None))

    def file_changes(self, session_id: str) -> list[FileChange]:
        """Every change of the session, undone or not, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM file_changes WHERE session_id = ? ORDER BY id",
                (session_id,),
            ).fetchall()
        return [_change(row) for row in rows]

    def changes_in_last_turns(self, session_id: str, turns: int = 1) -> list[PathChange]:
        """What undoing the last `turns` turns must revert, most recently changed path first.

        Only turns with changes not yet undone count, so a second undo goes further back.
        Per path: the "before" of its earliest change and the "after" of its latest one.
        """
        with self._read() as conn:
            self._require_session(conn, session_id)
            rows = conn.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM file_changes"
                " WHERE session_id = ? AND undo_id IS NULL AND turn IN ("
                "   SELECT DISTINCT turn FROM file_changes"
                "   WHERE session_id = ? AND undo_id IS NULL ORDER BY turn DESC LIMIT ?"
                " ) ORDER BY id",
                (session_id, session_id, max(turns, 0)),
            ).fetchall()
        by_path: dict[str, list[FileChange]] = {}
        for change in map(_change, rows):
            by_path.setdefault(change.path, []).append(change)
        merged = [
            PathChange(
                path=path,
                before=changes[0].before,
                after=changes[-1].after,
                turns=sorted({c.turn for c in changes}),
                change_ids=[c.id for c in changes],
            )
            for path, changes in by_path.items()
        ]
        return sorted(merged, key=lambda p: p.change_ids[-1], reverse=True)

    def record_undo(self, session_id: str, change_ids: Sequence[int]) -> UndoRecord:
        """Record that these changes were reverted; they no longer count for the next undo.

        Fails, changing nothing, if any of them is unknown, of another session or undone
        already (say another process undid them first).
        """
        ids = sorted(set(change_ids))
        if not ids:
            raise StoreError("an undo needs at least one file change", self.path)
        marks = ",".join("?" * len(ids))
        now = time.time()
        with self._write() as conn:
            self._require_session(conn, session_id)
            turns = [
                int(r[0])
                for r in conn.execute(
                    f"SELECT DISTINCT turn FROM file_changes WHERE session_id = ?"
                    f" AND undo_id IS NULL AND id IN ({marks}) ORDER BY turn",
                    (session_id, *ids),
                )
            ]
            cur = conn.execute(
                "INSERT INTO undos (session_id, turns, created_at) VALUES (?, ?, ?)",
                (session_id, json.dumps(turns), now),
            )
            undo_id = int(cur.lastrowid or 0)
            updated = conn.execute(
                f"UPDATE file_changes SET undo_id = ? WHERE session_id = ? AND undo_id IS NULL"
                f" AND id IN ({marks})",
                (undo_id, session_id, *ids),
            ).rowcount
            if updated != len(ids):
                raise StoreError(
                    f"cannot undo changes {ids} of session {session_id}: some are unknown or"
                    " already undone",
                    self.path,
                )
        return UndoRecord(
            id=undo_id, session_id=session_id, turns=turns, change_ids=ids, created_at=now
        )

    def list_undos(self, session_id: str) -> list[UndoRecord]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT u.id, u.turns, u.created_at, group_concat(f.id) FROM undos u"
                " LEFT JOIN file_changes f ON f.undo_id = u.id WHERE u.session_id = ?"
                " GROUP BY u.id ORDER BY u.id",
                (session_id,),
            ).fetchall()
        return [
            UndoRecord(
                id=uid,
                session_id=session_id,
                turns=json.loads(turns),
                change_ids=sorted(int(i) for i in (ids or "").split(",") if i),
                created_at=created_at,
            )
            for uid, turns, created_at, ids in rows
        ]
