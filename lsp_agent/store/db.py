"""The SQLite file: where it lives, how it is opened, its schema versions, and its errors.

Crash safety and sharing come from SQLite itself: WAL mode, `synchronous=NORMAL` (a commit
survives a killed process; only an OS crash or power cut may lose the last commits), a
busy timeout, and short `BEGIN IMMEDIATE` transactions for every write, so two processes
(two daemons, or the CLI and a daemon) can share one file.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import platformdirs

from lsp_agent.store.redact import Redactor

APP_NAME = "lsp-agent"
STATE_DIR_ENV = "LSP_AGENT_STATE_DIR"
DB_FILENAME = "sessions.db"
BUSY_TIMEOUT_S = 5.0

# One tuple of statements per schema version, applied in order inside one transaction.
# Never edit a released step: append a new one. Times are epoch seconds (REAL, UTC).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: sessions, their transcript, events, tool calls and usage per run.
    (
        """CREATE TABLE sessions (
            id         TEXT PRIMARY KEY,
            workspace  TEXT NOT NULL,
            title      TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX sessions_by_workspace ON sessions (workspace, updated_at)",
        "CREATE INDEX sessions_by_updated ON sessions (updated_at)",
        """CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            position   INTEGER NOT NULL,
            turn       INTEGER NOT NULL,
            role       TEXT NOT NULL,
            data       TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, position)
        ) WITHOUT ROWID""",
        "CREATE INDEX messages_by_turn ON messages (session_id, turn)",
        """CREATE TABLE events (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq        INTEGER NOT NULL,
            type       TEXT NOT NULL,
            data       TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, seq)
        ) WITHOUT ROWID""",
        # Derived from the tool-call events as they are appended; ids may repeat across
        # turns (some servers reuse "call_0"), so the announcing event's seq is the key.
        """CREATE TABLE tool_calls (
            session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq          INTEGER NOT NULL,
            tool_call_id TEXT NOT NULL,
            name         TEXT NOT NULL,
            title        TEXT NOT NULL,
            kind         TEXT NOT NULL,
            status       TEXT NOT NULL,
            arguments    TEXT NOT NULL,
            output       TEXT,
            updated_at   REAL NOT NULL,
            PRIMARY KEY (session_id, seq)
        ) WITHOUT ROWID""",
        "CREATE INDEX tool_calls_by_id ON tool_calls (session_id, tool_call_id)",
        # One row per run: a resumed session adds a row, so nothing is counted twice.
        """CREATE TABLE runs (
            id                INTEGER PRIMARY KEY,
            session_id        TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            model             TEXT NOT NULL,
            started_at        REAL NOT NULL,
            finished_at       REAL,
            stop_reason       TEXT,
            prompt_tokens     INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens     INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
            cost_usd          REAL
        )""",
        "CREATE INDEX runs_by_session ON runs (session_id)",
    ),
    # 2: file history for undo: content-addressed blobs and the changes that use them.
    (
        """CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            size   INTEGER NOT NULL,
            data   BLOB NOT NULL
        )""",
        """CREATE TABLE undos (
            id         INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            turns      TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE file_changes (
            id          INTEGER PRIMARY KEY,
            session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            turn        INTEGER NOT NULL,
            path        TEXT NOT NULL,
            before_blob TEXT REFERENCES blobs (sha256),
            after_blob  TEXT REFERENCES blobs (sha256),
            created_at  REAL NOT NULL,
            undo_id     INTEGER REFERENCES undos (id) ON DELETE SET NULL
        )""",
        "CREATE INDEX file_changes_by_turn ON file_changes (session_id, turn)",
        # Without these, deleting a blob would scan file_changes for the foreign-key check.
        "CREATE INDEX file_changes_by_before ON file_changes (before_blob)",
        "CREATE INDEX file_changes_by_after ON file_changes (after_blob)",
    ),
    # 3: checkpoints: a compaction or /clear replaces the messages before `position`
    # with `prefix` (a summary, or nothing) in what is sent to the model.
    (
        """CREATE TABLE checkpoints (
            id         INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            position   INTEGER NOT NULL,
            prefix     TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX checkpoints_by_session ON checkpoints (session_id, id)",
    ),
    # 4: a session's client choices (permission mode, model) as one JSON object, so they
    # survive a restart (ACP session/load and session/resume restore them). Self-contained:
    # one new table, nothing else touched, so this step can be renumbered freely.
    (
        """CREATE TABLE session_config (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
            config     TEXT NOT NULL
        )""",
    ),
    # 5: large snapshots are stored compressed; '' is raw bytes (every blob before 5).
    ("ALTER TABLE blobs ADD COLUMN encoding TEXT NOT NULL DEFAULT ''",),
    # 6: long strings in transcript rows are stored once, as blobs (see store/packing.py):
    # encoding "blobs" marks a row holding references ('' is plain JSON, every row before
    # 6); blob_refs says which session uses which blob, so the blob gc keeps them.
    (
        "ALTER TABLE messages ADD COLUMN encoding TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE events ADD COLUMN encoding TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE tool_calls ADD COLUMN encoding TEXT NOT NULL DEFAULT ''",  # of arguments
        """CREATE TABLE blob_refs (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            sha256     TEXT NOT NULL REFERENCES blobs (sha256),
            PRIMARY KEY (session_id, sha256)
        ) WITHOUT ROWID""",
        "CREATE INDEX blob_refs_by_blob ON blob_refs (sha256)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The session store cannot do what was asked; the message says why and what to do."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class SessionNotFoundError(StoreError):
    def __init__(self, session_id: str, path: Path | None = None) -> None:
        super().__init__(f"no session {session_id!r} in {path}", path)
        self.session_id = session_id


def state_dir(explicit: Path | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """Where state lives: `--state-dir`, else $LSP_AGENT_STATE_DIR, else the platform's."""
    if explicit is not None:
        return explicit.expanduser()
    if env := environ.get(STATE_DIR_ENV, "").strip():
        return Path(env).expanduser()
    return Path(platformdirs.user_state_dir(APP_NAME))


def default_store_path(explicit_dir: Path | None = None) -> Path:
    return state_dir(explicit_dir) / DB_FILENAME


def _move_aside_hint(path: Path) -> str:
    return (
        f"It was left untouched. Move it aside (mv '{path}' '{path}.broken') and lsp-agent "
        f"will start a new store, or use another directory with --state-dir or ${STATE_DIR_ENV}."
    )


def translate(err: sqlite3.Error | OSError, path: Path) -> StoreError:
    """A StoreError that names the file and the fix, for any error SQLite or the OS raised."""
    name = getattr(err, "sqlite_errorname", None) or ""
    text = str(err)
    if isinstance(err, OSError) or name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM")):
        return StoreError(
            f"cannot open the session store {path}: {text}. Check that it and its directory "
            f"are readable and writable, or use another directory with --state-dir or "
            f"${STATE_DIR_ENV}.",
            path,
        )
    if name.startswith("SQLITE_READONLY"):
        return StoreError(
            f"the session store {path} is read-only ({text}); fix its permissions, or use "
            f"another directory with --state-dir or ${STATE_DIR_ENV}.",
            path,
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(
            f"the session store {path} stayed locked by another lsp-agent process for more "
            f"than {BUSY_TIMEOUT_S:g} s ({text}); try again.",
            path,
        )
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_IOERR", "SQLITE_FORMAT")):
        return StoreError(
            f"{path} is not a readable lsp-agent session store ({text}). {_move_aside_hint(path)}",
            path,
        )
    return StoreError(f"session store {path}: {text}", path)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the session store {path} was created by a newer lsp-agent (schema version "
            f"{version}; this one knows up to {SCHEMA_VERSION}): upgrade lsp-agent, or use "
            f"another directory with --state-dir or ${STATE_DIR_ENV}. The store was not changed.",
            path,
        )


def migrate(conn: sqlite3.Connection, path: Path, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` in one transaction; returns the version now in force."""
    version = _user_version(conn)
    _refuse_newer(version, path)
    if version >= target:
        return version  # the common case: no write lock taken
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # another process may have migrated in the meantime
        _refuse_newer(version, path)
        for step in MIGRATIONS[version:target]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {max(version, target)}")
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return max(version, target)


@functools.cache
def expected_schema(version: int) -> dict[str, frozenset[str]]:
    """Table -> column names that MIGRATIONS[:version] create (built in memory, so it can
    never drift from them)."""
    scratch = sqlite3.connect(":memory:")
    try:
        for step in MIGRATIONS[:version]:
            for statement in step:
                scratch.execute(statement)
        return _schema(scratch)
    finally:
        scratch.close()


def _schema(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        t: frozenset(str(r[0]) for r in conn.execute("SELECT name FROM pragma_table_info(?)", (t,)))
        for t in tables
    }


def _refuse_damaged(conn: sqlite3.Connection, version: int, path: Path) -> None:
    """Refuse, before any write, a store missing a table or column its version should have
    (say a table someone dropped): writing to it would fail half-way through a run."""
    found = _schema(conn)
    missing = []
    for table, columns in sorted(expected_schema(version).items()):
        if table not in found:
            missing.append(f"table {table}")
        else:
            missing.extend(f"column {table}.{c}" for c in sorted(columns - found[table]))
    if missing:
        raise StoreError(
            f"the session store {path} is damaged: schema version {version} but it lacks "
            f"{', '.join(missing)}. {_move_aside_hint(path)}",
            path,
        )


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL (a setting stored in the file, so normally only its creator does it).

    The switch needs an exclusive lock and SQLite does not call the busy handler for it,
    so when two processes create the store at once, the loser retries until the timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            # Returns the mode in force; a filesystem without WAL support keeps its own mode.
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as e:
            busy = (getattr(e, "sqlite_errorname", None) or "").startswith("SQLITE_BUSY")
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def open_connection(path: Path, target: int = SCHEMA_VERSION) -> sqlite3.Connection:
    """Open (or create) the store, refusing anything that is not ours before writing to it."""
    try:
        if not path.exists():
            # The transcripts hold source code and tool output: keep the directory private.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write below says BEGIN itself.
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except (sqlite3.Error, OSError) as e:
        raise translate(e, path) from e
    try:
        # Read before any write: a garbage file fails here ("not a database") untouched.
        objects, version = conn.execute(
            "SELECT (SELECT count(*) FROM sqlite_master),"
            " (SELECT user_version FROM pragma_user_version)"
        ).fetchone()
        _refuse_newer(version, path)
        if version == 0 and objects:
            raise StoreError(
                f"{path} is an SQLite database but not an lsp-agent session store. "
                + _move_aside_hint(path),
                path,
            )
        _refuse_damaged(conn, version, path)
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, path, target)
    except BaseException as e:
        conn.close()
        if isinstance(e, sqlite3.Error):
            raise translate(e, path) from e
        raise
    return conn


class StoreBase:
    """One connection, used from one thread at a time (the lock makes misuse harmless)."""

    def __init__(self, path: Path, *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self._redactor = Redactor(secrets)
        self._conn = open_connection(self.path)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as e:
                raise translate(e, self.path) from e

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short transaction; IMMEDIATE takes the write lock up front, so a read-then-write
        never fails with a stale snapshot, and the busy timeout applies to the wait."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as e:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise translate(e, self.path) from e
                raise

    def check(self) -> list[str]:
        """SQLite's quick_check: [] when the file is sound, else the problems (for `doctor`)."""
        with self._read() as conn:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    def _require_session(self, conn: sqlite3.Connection, session_id: str) -> None:
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
            raise SessionNotFoundError(session_id, self.path)
