"""Opening the file: location, pragmas, migrations, and refusing files that are not ours."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs
import pytest

from lsp_agent.model.wire import UserMessage
from lsp_agent.store import (
    SCHEMA_VERSION,
    SessionStore,
    StoreError,
    db,
    default_store_path,
    state_dir,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


# --- where the store lives ------------------------------------------------------


def test_state_dir_precedence(tmp_path: Path) -> None:
    env = {"LSP_AGENT_STATE_DIR": str(tmp_path / "env")}
    assert state_dir(tmp_path / "flag", env) == tmp_path / "flag"
    assert state_dir(None, env) == tmp_path / "env"
    platform = Path(platformdirs.user_state_dir("lsp-agent"))
    assert state_dir(None, {}) == platform
    assert state_dir(None, {"LSP_AGENT_STATE_DIR": "  "}) == platform


def test_env_var_respected_by_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSP_AGENT_STATE_DIR", str(tmp_path / "from-env"))
    path = default_store_path()
    assert path == tmp_path / "from-env" / "sessions.db"
    with SessionStore(path) as store:
        store.create_session("/ws")
    assert path.is_file()
    assert default_store_path(tmp_path / "flag") == tmp_path / "flag" / "sessions.db"


def test_creates_a_private_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sessions.db"
    SessionStore(path).close()
    assert path.is_file()
    assert (path.parent.stat().st_mode & 0o777) == 0o700


# --- a fresh store ------------------------------------------------------------------


def test_fresh_store_pragmas_and_schema(store: SessionStore, db_path: Path) -> None:
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert user_version(db_path) == SCHEMA_VERSION
    assert {"sessions", "messages", "events", "tool_calls", "runs"} <= tables(db_path)
    assert {"blobs", "file_changes", "undos"} <= tables(db_path)
    assert store.check() == []


def test_reopening_keeps_data(db_path: Path) -> None:
    with SessionStore(db_path) as store:
        sid = store.create_session("/ws", "hello").id
        store.append_message(sid, UserMessage(content="hi"), 1)
    with SessionStore(db_path) as store:
        assert store.get_session(sid).title == "hello"
        assert store.load_messages(sid) == [UserMessage(content="hi")]


# --- migrations -----------------------------------------------------------------------


def test_migrates_an_empty_version_0_file(db_path: Path) -> None:
    db_path.parent.mkdir()
    db_path.write_bytes(b"")  # SQLite treats an empty file as an empty database
    with SessionStore(db_path) as store:
        store.create_session("/ws")
    assert user_version(db_path) == SCHEMA_VERSION


def test_migrates_version_1_keeping_its_data(db_path: Path) -> None:
    db_path.parent.mkdir()
    conn = db.open_connection(db_path, target=1)
    conn.execute(
        "INSERT INTO sessions (id, workspace, title, created_at, updated_at)"
        " VALUES ('old', '/ws', 'from v1', 1.0, 2.0)"
    )
    conn.execute(
        "INSERT INTO messages (session_id, position, turn, role, data, created_at)"
        """ VALUES ('old', 0, 1, 'user', '{"role":"user","content":"hi"}', 1.0)"""
    )
    conn.close()
    assert user_version(db_path) == 1
    assert "file_changes" not in tables(db_path)

    with SessionStore(db_path) as store:
        assert store.get_session("old").title == "from v1"
        assert store.load_messages("old") == [UserMessage(content="hi")]
        store.record_change("old", 1, "a.py", "before", "after")  # a version-2 table
    assert user_version(db_path) == SCHEMA_VERSION


def test_a_failing_migration_changes_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path.parent.mkdir()
    db.open_connection(db_path, target=1).close()
    broken = (db.MIGRATIONS[0], ("CREATE TABLE half_done (x)", "THIS IS NOT SQL"))
    monkeypatch.setattr(db, "MIGRATIONS", broken)
    conn = sqlite3.connect(db_path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(conn, db_path, target=2)
    conn.close()
    assert user_version(db_path) == 1
    assert "half_done" not in tables(db_path)


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sessions (id TEXT)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = files_in(tmp_path)
    with pytest.raises(StoreError, match="newer lsp-agent") as info:
        SessionStore(path)
    assert str(path) in str(info.value)
    assert "upgrade" in str(info.value)
    assert files_in(tmp_path) == before


# --- files that are not a usable store --------------------------------------------------


def test_garbage_file_is_refused_and_left_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_bytes(b"this is not a database\n" * 300 + bytes(range(256)))
    before = files_in(tmp_path)
    with pytest.raises(StoreError) as info:
        SessionStore(path)
    message = str(info.value)
    assert str(path) in message
    assert "not a readable lsp-agent session store" in message
    assert "Move it aside" in message
    assert files_in(tmp_path) == before  # same bytes, and no -wal/-shm left next to it


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    before = files_in(tmp_path)
    with pytest.raises(StoreError, match="not an lsp-agent session store"):
        SessionStore(path)
    assert files_in(tmp_path) == before


def test_truncated_store_gives_a_clear_error_and_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    with SessionStore(path) as store:
        sid = store.create_session("/ws").id
        for i in range(300):
            store.append_message(sid, UserMessage(content=f"{i} " + "x" * 1000), i)
    assert not (tmp_path / "sessions.db-wal").exists()  # checkpointed on close
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    truncated = path.read_bytes()
    with pytest.raises(StoreError) as info, SessionStore(path) as store:
        store.load_messages(sid)
    assert str(path) in str(info.value)
    assert "Move it aside" in str(info.value)
    assert path.read_bytes() == truncated


def test_a_directory_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.mkdir()
    with pytest.raises(StoreError, match="cannot open the session store") as info:
        SessionStore(path)
    assert str(path) in str(info.value)


@pytest.mark.skipif(IS_ROOT, reason="root ignores file permissions")
def test_unreadable_file_is_a_clear_error_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    SessionStore(path).close()
    before = path.read_bytes()
    path.chmod(0)
    try:
        with pytest.raises(StoreError, match="cannot open the session store"):
            SessionStore(path)
    finally:
        path.chmod(0o600)
    assert path.read_bytes() == before


def test_using_a_closed_store_is_a_store_error(db_path: Path) -> None:
    store = SessionStore(db_path)
    store.close()
    with pytest.raises(StoreError):
        store.list_sessions()
