"""A session's messages (what the model sees), events (what the editor saw) and tool calls."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, TypeAdapter

from lsp_agent import safe_text
from lsp_agent.agent.events import Event, event_adapter
from lsp_agent.model.wire import AssistantMessage, Message
from lsp_agent.store.db import SessionNotFoundError, StoreBase
from lsp_agent.store.packing import pack, put_blobs, unpack_all
from lsp_agent.store.repair import INTERRUPTED, repair
from lsp_agent.store.snapshots import Blob

# Whole lists validate in one pydantic-core call: far faster than a row at a time.
_message_list: TypeAdapter[list[Message]] = TypeAdapter(list[Message])
_event_list: TypeAdapter[list[Event]] = TypeAdapter(list[Event])

_INSERT_MESSAGE = (
    "INSERT INTO messages (session_id, position, turn, role, data, encoding, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO events (session_id, seq, type, data, encoding, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
# The newest call with this id: ids may repeat across turns, results follow their call.
_LATEST_CALL = "(SELECT max(seq) FROM tool_calls WHERE session_id = ? AND tool_call_id = ?)"


class StoredEvent(NamedTuple):
    seq: int
    event: Event


class ToolCallRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int  # of the event that announced the call
    tool_call_id: str
    name: str
    title: str
    kind: str
    status: str
    arguments: str  # JSON text (or the raw text the model sent when it was not JSON)
    output: str | None
    updated_at: float


def _json_list(texts: list[str]) -> str:
    return "[" + ",".join(texts) + "]"


def _arguments(d: dict[str, Any]) -> tuple[str, str, dict[str, Blob]] | None:
    """A tool_call event's arguments as the tool_calls row stores them (packed)."""
    if d["type"] != "tool_call":
        return None
    raw = d["raw_input"]
    if isinstance(raw, str):  # the model's text when it was not JSON: kept as it is
        return raw, "", {}
    return pack(json.dumps(raw, ensure_ascii=False))


class Transcript(StoreBase):
    def _dumps(self, value: Any) -> str:
        return safe_text.dumps(self._redactor.value(value))

    def _message_json(self, message: Message) -> str:
        data = message.model_dump(mode="json")
        if isinstance(message, AssistantMessage):
            data["reasoning"] = message.reasoning  # excluded from dumps by default; keep it
        return self._dumps(data)

    def _next(self, conn: sqlite3.Connection, table: str, column: str, session_id: str) -> int:
        """The next position/seq in a session, checking the session exists in the same query."""
        exists, last = conn.execute(
            f"SELECT (SELECT 1 FROM sessions WHERE id = ?),"
            f" (SELECT max({column}) FROM {table} WHERE session_id = ?)",
            (session_id, session_id),
        ).fetchone()
        if exists is None:
            raise SessionNotFoundError(session_id, self.path)
        return 0 if last is None else int(last) + 1

    # --- messages -------------------------------------------------------------

    def append_message(self, session_id: str, message: Message, turn: int) -> int:
        """Append and commit one message; returns its position (0-based)."""
        return self.append_messages(session_id, [message], turn)[0]

    def append_messages(self, session_id: str, messages: Sequence[Message], turn: int) -> list[int]:
        """Append and commit several messages in one transaction (e.g. a batch of results)."""
        if not messages:
            return []
        # Serialised and packed before taking the lock.
        rows = [(m.role, *pack(self._message_json(m))) for m in messages]
        now = time.time()
        with self._write() as conn:
            start = self._next(conn, "messages", "position", session_id)
            for *_, blobs in rows:
                put_blobs(conn, session_id, blobs)
            conn.executemany(
                _INSERT_MESSAGE,
                [
                    (session_id, start + i, turn, role, data, encoding, now)
                    for i, (role, data, encoding, _) in enumerate(rows)
                ],
            )
            conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))
        return list(range(start, start + len(rows)))

    def load_messages(self, session_id: str) -> list[Message]:
        """The transcript as stored (see `repair_session` for one fit to send)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT data, encoding FROM messages WHERE session_id = ? ORDER BY position",
                (session_id,),
            ).fetchall()
            if not rows:
                self._require_session(conn, session_id)
            texts = unpack_all(conn, self.path, rows)
        return _message_list.validate_json(_json_list(texts))

    def last_turn(self, session_id: str) -> int:
        """The highest turn number among the messages; 0 when there are none."""
        with self._read() as conn:
            self._require_session(conn, session_id)
            row = conn.execute(
                "SELECT max(turn) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()
        return int(row[0] or 0)

    def save_checkpoint(self, session_id: str, position: int, prefix: Sequence[Message]) -> None:
        """From now on the model sees `prefix` + the messages from `position` on."""
        data = "[" + ",".join(self._message_json(m) for m in prefix) + "]"
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                "INSERT INTO checkpoints (session_id, position, prefix, created_at)"
                " VALUES (?, ?, ?, ?)",
                (session_id, position, data, time.time()),
            )

    def load_transcript(self, session_id: str) -> tuple[list[Message], int]:
        """What the model sees (the latest checkpoint applied), and how many are stored."""
        with self._read() as conn:
            self._require_session(conn, session_id)
            row = conn.execute(
                "SELECT position, prefix FROM checkpoints WHERE session_id = ?"
                " ORDER BY id DESC LIMIT 1",
                (session_id,),
            ).fetchone()
            position, prefix = (0, "[]") if row is None else (int(row[0]), str(row[1]))
            rows = conn.execute(
                "SELECT data, encoding FROM messages WHERE session_id = ? AND position >= ?"
                " ORDER BY position",
                (session_id, position),
            ).fetchall()
            texts = unpack_all(conn, self.path, rows)
            (count,) = conn.execute(
                "SELECT count(*) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()
        messages = _message_list.validate_json(prefix) + _message_list.validate_json(
            _json_list(texts)
        )
        return messages, int(count)

    def repair_session(self, session_id: str) -> list[Message]:
        """Load the transcript, `repair` it, store the repair if anything changed, return it.

        Added results take the turn of the message before them.
        """
        with self._write() as conn:
            rows = conn.execute(
                "SELECT data, encoding, turn, created_at FROM messages WHERE session_id = ?"
                " ORDER BY position",
                (session_id,),
            ).fetchall()
            if not rows:
                self._require_session(conn, session_id)
            texts = unpack_all(conn, self.path, [(r[0], r[1]) for r in rows])
            stored = _message_list.validate_json(_json_list(texts))
            repaired = repair(stored)
            if len(repaired) == len(stored) and all(
                a is b for a, b in zip(repaired, stored, strict=True)
            ):
                return repaired
            origin = {id(m): row for m, row in zip(stored, rows, strict=True)}
            now = time.time()
            new_rows = []
            turn = rows[0][2] if rows else 0
            for position, message in enumerate(repaired):
                if (row := origin.get(id(message))) is not None:
                    data, encoding, turn, created_at = row  # kept as stored, blobs and all
                else:
                    data, encoding, blobs = pack(self._message_json(message))
                    put_blobs(conn, session_id, blobs)
                    created_at = now
                new_rows.append(
                    (session_id, position, turn, message.role, data, encoding, created_at)
                )
            conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            conn.executemany(_INSERT_MESSAGE, new_rows)
        return repaired

    # --- events and the tool calls derived from them ---------------------------

    def append_event(self, session_id: str, event: Event) -> int:
        """Append and commit one event; returns its seq (0-based)."""
        return self.append_events(session_id, [event])[0]

    def append_events(self, session_id: str, events: Sequence[Event]) -> list[int]:
        if not events:
            return []
        dumped = [self._redactor.value(event_adapter.dump_python(e, mode="json")) for e in events]
        texts = [json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in dumped]
        if not all(map(safe_text.is_clean, texts)):  # SQLite stores UTF-8 only
            dumped = [safe_text.clean_value(d) for d in dumped]
            texts = [safe_text.dumps(d) for d in dumped]
        packed = [pack(t) for t in texts]  # long strings become blobs, outside the lock
        arguments = [_arguments(d) for d in dumped]
        now = time.time()
        with self._write() as conn:
            start = self._next(conn, "events", "seq", session_id)
            for _, _, blobs in packed:
                put_blobs(conn, session_id, blobs)
            conn.executemany(
                _INSERT_EVENT,
                [
                    (session_id, start + i, d["type"], text, encoding, now)
                    for i, (d, (text, encoding, _)) in enumerate(zip(dumped, packed, strict=True))
                ],
            )
            for i, (d, args) in enumerate(zip(dumped, arguments, strict=True)):
                if args is not None:
                    put_blobs(conn, session_id, args[2])
                self._derive_tool_call(conn, session_id, start + i, d, args, now)
        return list(range(start, start + len(events)))

    def _derive_tool_call(
        self,
        conn: sqlite3.Connection,
        session_id: str,
        seq: int,
        d: dict[str, Any],
        args: tuple[str, str, dict[str, Blob]] | None,
        now: float,
    ) -> None:
        kind = d["type"]
        if kind == "tool_call" and args is not None:
            arguments, encoding, _ = args
            conn.execute(
                "INSERT INTO tool_calls (session_id, seq, tool_call_id, name, title, kind,"
                " status, arguments, encoding, output, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    session_id,
                    seq,
                    d["tool_call_id"],
                    d["name"],
                    d["title"],
                    d["kind"],
                    d["status"],
                    arguments,
                    encoding,
                    now,
                ),
            )
        elif kind == "tool_call_update":
            conn.execute(
                f"UPDATE tool_calls SET status = ?, updated_at = ?"
                f" WHERE session_id = ? AND seq = {_LATEST_CALL}",
                (d["status"], now, session_id, session_id, d["tool_call_id"]),
            )
        elif kind == "tool_call_finished":
            conn.execute(
                f"UPDATE tool_calls SET status = ?, output = ?, updated_at = ?"
                f" WHERE session_id = ? AND seq = {_LATEST_CALL}",
                (d["status"], d["output"], now, session_id, session_id, d["tool_call_id"]),
            )

    def load_events(self, session_id: str, start: int = 0) -> list[StoredEvent]:
        """Events with seq >= start, in order (to replay a session to an editor)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT data, encoding, seq FROM events WHERE session_id = ? AND seq >= ?"
                " ORDER BY seq",
                (session_id, start),
            ).fetchall()
            if not rows:
                self._require_session(conn, session_id)
            texts = unpack_all(conn, self.path, [(r[0], r[1]) for r in rows])
        events = _event_list.validate_json(_json_list(texts))
        return [StoredEvent(row[2], e) for row, e in zip(rows, events, strict=True)]

    def tool_calls(self, session_id: str) -> list[ToolCallRecord]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT seq, tool_call_id, name, title, kind, status, arguments, output,"
                " updated_at, encoding FROM tool_calls WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
            arguments = unpack_all(conn, self.path, [(r[6], r[9]) for r in rows])
        keys = ToolCallRecord.model_fields.keys()
        return [
            ToolCallRecord.model_validate(dict(zip(keys, (*row[:6], args, *row[7:9]), strict=True)))
            for row, args in zip(rows, arguments, strict=True)
        ]

    def interrupt_tool_calls(self, session_id: str) -> int:
        """Mark calls a dead run left pending or running as failed; returns how many."""
        with self._write() as conn:
            return conn.execute(
                "UPDATE tool_calls SET status = 'failed', output = ?, updated_at = ?"
                " WHERE session_id = ? AND status IN ('pending', 'in_progress')",
                (INTERRUPTED, time.time(), session_id),
            ).rowcount
