"""File history: deduplicated snapshots, changes across turns, undo, and garbage collection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lsp_agent.store import PathChange, SessionNotFoundError, SessionStore, StoreError, sha256_hex


def blob_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM blobs").fetchone()[0])


def test_blobs_are_content_addressed_and_stored_once(store: SessionStore, db_path: Path) -> None:
    sid = store.create_session("/ws").id
    first = store.record_change(sid, 1, "a.py", "same text\n", "new text\n")
    second = store.record_change(sid, 1, "b.py", b"same text\n", "new text\n")
    assert first.before == second.before == sha256_hex("same text\n")
    assert first.after == second.after
    assert blob_count(db_path) == 2
    assert store.read_blob(first.before) == b"same text\n"  # type: ignore[arg-type]
    assert store.put_blob("new text\n") == first.after
    assert store.put_blob(b"\x00\xffbinary") == sha256_hex(b"\x00\xffbinary")
    assert store.read_blob(sha256_hex(b"\x00\xffbinary")) == b"\x00\xffbinary"
    assert blob_count(db_path) == 3
    with pytest.raises(StoreError, match="no snapshot"):
        store.read_blob("0" * 64)


def test_created_and_deleted_files_have_no_blob(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    created = store.record_change(sid, 1, Path("new.py"), None, "x")
    deleted = store.record_change(sid, 1, "old.py", "y", None)
    assert (created.before, created.path) == (None, "new.py")
    assert deleted.after is None
    assert store.file_changes(sid) == [created, deleted]


def test_recording_for_an_unknown_session_stores_nothing(
    store: SessionStore, db_path: Path
) -> None:
    with pytest.raises(SessionNotFoundError):
        store.record_change("missing", 1, "a.py", "before", "after")
    assert blob_count(db_path) == 0


@pytest.fixture
def history(store: SessionStore) -> str:
    """Three turns of edits, and another session's edits that must never show up."""
    sid = store.create_session("/ws").id
    other = store.create_session("/ws").id
    store.record_change(sid, 1, "a.py", "a0", "a1")
    store.record_change(sid, 1, "b.py", None, "b1")  # created
    store.record_change(sid, 2, "a.py", "a1", "a2")
    store.record_change(sid, 2, "c.py", "c0", None)  # deleted
    store.record_change(other, 3, "a.py", "zz", "zz2")
    store.record_change(sid, 3, "a.py", "a2", "a3")
    store.record_change(sid, 3, "a.py", "a3", "a4")
    return sid


def summary(changes: list[PathChange], store: SessionStore) -> list[tuple[object, ...]]:
    def text(sha: str | None) -> str | None:
        return None if sha is None else store.read_blob(sha).decode()

    return [(c.path, text(c.before), text(c.after), c.turns) for c in changes]


def test_changes_of_the_last_turns(store: SessionStore, history: str) -> None:
    assert summary(store.changes_in_last_turns(history, 1), store) == [
        ("a.py", "a2", "a4", [3]),
    ]
    assert summary(store.changes_in_last_turns(history, 2), store) == [
        ("a.py", "a1", "a4", [2, 3]),
        ("c.py", "c0", None, [2]),
    ]
    assert summary(store.changes_in_last_turns(history, 10), store) == [
        ("a.py", "a0", "a4", [1, 2, 3]),
        ("c.py", "c0", None, [2]),
        ("b.py", None, "b1", [1]),
    ]
    assert store.changes_in_last_turns(history, 0) == []


def test_undo_is_recorded_and_moves_further_back(store: SessionStore, history: str) -> None:
    last = store.changes_in_last_turns(history, 1)
    undo = store.record_undo(history, last[0].change_ids)
    assert (undo.turns, undo.change_ids) == ([3], last[0].change_ids)

    # The undone turn no longer counts: the next undo reverts turn 2 (latest change first).
    assert summary(store.changes_in_last_turns(history, 1), store) == [
        ("c.py", "c0", None, [2]),
        ("a.py", "a1", "a2", [2]),
    ]
    assert store.list_undos(history) == [undo]
    undone = [c for c in store.file_changes(history) if c.undo_id is not None]
    assert [c.id for c in undone] == undo.change_ids

    # Undoing the same changes twice (say from two processes) fails and changes nothing.
    with pytest.raises(StoreError, match="already undone"):
        store.record_undo(history, last[0].change_ids)
    assert store.list_undos(history) == [undo]
    with pytest.raises(StoreError):
        store.record_undo(history, [])


def test_undo_refuses_another_sessions_changes(store: SessionStore, history: str) -> None:
    other = next(s.id for s in store.list_sessions() if s.id != history)
    theirs = store.changes_in_last_turns(other, 1)[0].change_ids
    with pytest.raises(StoreError):
        store.record_undo(history, theirs)
    assert store.file_changes(other)[0].undo_id is None


def test_deleting_sessions_collects_unused_blobs(store: SessionStore, db_path: Path) -> None:
    a, b = store.create_session("/ws").id, store.create_session("/ws").id
    store.record_change(a, 1, "x.py", "shared", "only a")
    store.record_change(b, 1, "x.py", "shared", "only b")
    assert blob_count(db_path) == 3
    store.delete_session(a)
    assert blob_count(db_path) == 2
    assert store.read_blob(sha256_hex("shared")) == b"shared"
    store.delete_session(b)
    assert blob_count(db_path) == 0


def test_gc_keeps_referenced_blobs(store: SessionStore, db_path: Path) -> None:
    sid = store.create_session("/ws").id
    store.record_change(sid, 1, "x.py", "kept", None)
    store.put_blob("loose")
    assert store.gc_blobs() == 1
    assert store.read_blob(sha256_hex("kept")) == b"kept"
