"""Sessions (create, find, list, delete, title) and token usage per run."""

from __future__ import annotations

import json
import os
import secrets
import string
import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from lsp_agent.model.wire import Usage
from lsp_agent.safe_text import clean
from lsp_agent.store.db import SessionNotFoundError, StoreBase, StoreError

# Lowercase letters and digits: url-safe, case-insensitive filesystems and shells are happy,
# and an id never starts with "-" (which a CLI would take for a flag). 36**16 ≈ 2**82.
_ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 16
TITLE_LIMIT = 60


class SessionInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    workspace: str
    title: str
    created_at: float  # epoch seconds, UTC
    updated_at: float
    turns: int = 0  # distinct turn numbers among the messages
    messages: int = 0


class RunInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    session_id: str
    model: str
    started_at: float
    finished_at: float | None
    stop_reason: str | None
    usage: Usage
    cost_usd: float | None


class UsageTotals(BaseModel):
    model_config = ConfigDict(frozen=True)

    usage: Usage
    cost_usd: float | None  # None when no run knew its price
    runs: int


def new_session_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))


def title_from_prompt(prompt: str, limit: int = TITLE_LIMIT) -> str:
    """The first non-blank line, whitespace collapsed, cut at a word to `limit` chars with "…"."""
    line = next((line for line in prompt.splitlines() if line.strip()), "")
    title = " ".join(line.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rstrip()
    head, space, _ = cut.rpartition(" ")
    if space and len(head) >= limit // 2:
        cut = head.rstrip()
    return cut + "…"


_SESSION_COLUMNS = """
    s.id, s.workspace, s.title, s.created_at, s.updated_at,
    (SELECT count(DISTINCT m.turn) FROM messages m WHERE m.session_id = s.id),
    (SELECT count(*) FROM messages m WHERE m.session_id = s.id)
"""


def _session(row: tuple[Any, ...]) -> SessionInfo:
    sid, workspace, title, created_at, updated_at, turns, messages = row
    return SessionInfo(
        id=sid,
        workspace=workspace,
        title=title,
        created_at=created_at,
        updated_at=updated_at,
        turns=turns,
        messages=messages,
    )


def _run(row: tuple[Any, ...]) -> RunInfo:
    rid, sid, model, started, finished, stop, p, c, cached, reasoning, cost = row
    usage = Usage(
        prompt_tokens=p, completion_tokens=c, cached_tokens=cached, reasoning_tokens=reasoning
    )
    return RunInfo(
        id=rid,
        session_id=sid,
        model=model,
        started_at=started,
        finished_at=finished,
        stop_reason=stop,
        usage=usage,
        cost_usd=cost,
    )


class Sessions(StoreBase):
    # --- sessions -----------------------------------------------------------

    def create_session(self, workspace: str | os.PathLike[str], title: str = "") -> SessionInfo:
        """A new, empty session. Pass the workspace resolved: lookups compare it exactly."""
        now = time.time()
        title = clean(self._redactor.text(title))
        workspace = clean(os.fspath(workspace))
        with self._write() as conn:
            while True:  # a collision is astronomically unlikely, but cheap to rule out
                sid = new_session_id()
                if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
                    break
            conn.execute(
                "INSERT INTO sessions (id, workspace, title, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (sid, os.fspath(workspace), title, now, now),
            )
        return SessionInfo(
            id=sid, workspace=os.fspath(workspace), title=title, created_at=now, updated_at=now
        )

    def get_session(self, session_id: str) -> SessionInfo:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
            ).fetchone()
        if row is None:
            raise SessionNotFoundError(session_id, self.path)
        return _session(row)

    def resolve_session_id(self, prefix: str) -> str:
        """The one session id starting with `prefix` (so the CLI accepts a short form)."""
        prefix = prefix.strip()
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id FROM sessions WHERE substr(id, 1, ?) = ? LIMIT 2",
                (len(prefix), prefix),
            ).fetchall()
        if not prefix or not rows:
            raise SessionNotFoundError(prefix, self.path)
        if len(rows) > 1:
            raise StoreError(f"{prefix!r} matches more than one session; give more of the id")
        return str(rows[0][0])

    def list_sessions(
        self,
        workspace: str | os.PathLike[str] | None = None,
        limit: int | None = None,
        *,
        nested: bool = False,
    ) -> list[SessionInfo]:
        """Sessions, most recently updated first, optionally only those of one workspace;
        `nested` also finds those whose working directory lies inside it (the `workspace`
        column holds a session's cwd)."""
        sql = f"SELECT {_SESSION_COLUMNS} FROM sessions s"
        params: list[object] = []
        if workspace is not None:
            where = os.fspath(workspace)
            sql += " WHERE s.workspace = ?"
            params.append(where)
            if nested:  # substr, not LIKE: paths hold % and _
                prefix = os.path.join(where, "")
                sql += " OR substr(s.workspace, 1, ?) = ?"
                params += [len(prefix), prefix]
        sql += " ORDER BY s.updated_at DESC, s.rowid DESC LIMIT ?"
        params.append(-1 if limit is None else limit)
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_session(row) for row in rows]

    def latest_session(self, workspace: str | os.PathLike[str]) -> SessionInfo | None:
        """The session `--continue` resumes: the workspace's most recently updated one."""
        found = self.list_sessions(workspace, limit=1)
        return found[0] if found else None

    def set_title(self, session_id: str, title: str) -> None:
        title = clean(self._redactor.text(title))
        self._update_session(session_id, "UPDATE sessions SET title = ? WHERE id = ?", title)

    def touch(self, session_id: str) -> None:
        self._update_session(
            session_id, "UPDATE sessions SET updated_at = ? WHERE id = ?", time.time()
        )

    def save_config(self, session_id: str, config: dict[str, Any]) -> None:
        """Keep a session's client choices (mode, model): a JSON object, replaced whole."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                "INSERT INTO session_config (session_id, config) VALUES (?, ?)"
                " ON CONFLICT (session_id) DO UPDATE SET config = excluded.config",
                (session_id, json.dumps(config)),
            )

    def load_config(self, session_id: str) -> dict[str, Any]:
        """A session's stored choices ({} when none were made or the row is unreadable)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT config FROM session_config WHERE session_id = ?", (session_id,)
            ).fetchone()
        try:
            config = json.loads(row[0]) if row else {}
        except ValueError:
            return {}
        return config if isinstance(config, dict) else {}

    def _update_session(self, session_id: str, sql: str, value: object) -> None:
        with self._write() as conn:
            if conn.execute(sql, (value, session_id)).rowcount == 0:
                raise SessionNotFoundError(session_id, self.path)

    def delete_session(self, session_id: str) -> None:
        """Delete a session and everything it owns; snapshots no session uses go too."""
        with self._write() as conn:
            # The foreign keys cascade to messages, events, tool calls, runs and file history.
            if conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 0:
                raise SessionNotFoundError(session_id, self.path)
            conn.execute(_GC_BLOBS)

    def gc_blobs(self) -> int:
        """Delete the blobs no file change or transcript row refers to; returns how many went."""
        with self._write() as conn:
            return conn.execute(_GC_BLOBS).rowcount

    # --- usage, one row per run ----------------------------------------------

    def start_run(self, session_id: str, model: str = "") -> int:
        """A new run of the session (a prompt, or a resume); its usage starts at zero."""
        with self._write() as conn:
            self._require_session(conn, session_id)
            cur = conn.execute(
                "INSERT INTO runs (session_id, model, started_at) VALUES (?, ?, ?)",
                (session_id, model, time.time()),
            )
        return int(cur.lastrowid or 0)

    def record_usage(self, run_id: int, usage: Usage, cost_usd: float | None = None) -> None:
        """Set the run's usage so far (the run's running total, not an increment): reporting
        the same total twice, e.g. on every UsageUpdated, never counts anything twice."""
        self._update_run(
            run_id,
            "UPDATE runs SET prompt_tokens = ?, completion_tokens = ?, cached_tokens = ?,"
            " reasoning_tokens = ?, cost_usd = ? WHERE id = ?",
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cached_tokens,
            usage.reasoning_tokens,
            cost_usd,
        )

    def finish_run(self, run_id: int, stop_reason: str) -> None:
        self._update_run(
            run_id,
            "UPDATE runs SET finished_at = ?, stop_reason = ? WHERE id = ?",
            time.time(),
            stop_reason,
        )

    def _update_run(self, run_id: int, sql: str, *values: object) -> None:
        with self._write() as conn:
            if conn.execute(sql, (*values, run_id)).rowcount == 0:
                raise StoreError(f"no run {run_id} in {self.path}", self.path)

    def list_runs(self, session_id: str) -> list[RunInfo]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, session_id, model, started_at, finished_at, stop_reason,"
                " prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_usd"
                " FROM runs WHERE session_id = ? ORDER BY id",
                (session_id,),
            ).fetchall()
        return [_run(row) for row in rows]

    def session_usage(self, session_id: str) -> UsageTotals:
        """The session's totals: the sum over its runs."""
        with self._read() as conn:
            p, c, ca, r, cost, runs = conn.execute(
                "SELECT total(prompt_tokens), total(completion_tokens), total(cached_tokens),"
                " total(reasoning_tokens), sum(cost_usd), count(*)"
                " FROM runs WHERE session_id = ?",
                (session_id,),
            ).fetchone()
        usage = Usage(
            prompt_tokens=int(p),
            completion_tokens=int(c),
            cached_tokens=int(ca),
            reasoning_tokens=int(r),
        )
        return UsageTotals(usage=usage, cost_usd=cost, runs=runs)


_GC_BLOBS = """
    DELETE FROM blobs WHERE sha256 NOT IN (
        SELECT before_blob FROM file_changes WHERE before_blob IS NOT NULL
        UNION SELECT after_blob FROM file_changes WHERE after_blob IS NOT NULL
        UNION SELECT sha256 FROM blob_refs
    )
"""
