"""Long strings in messages, events and tool calls are stored once, as compressed blobs, and
come back exactly; a store from before migration 6 still loads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from lsp_agent.agent.events import Diff, ToolCallFinished, ToolCallStarted
from lsp_agent.model.wire import AssistantMessage, FunctionCall, ToolCall, UserMessage
from lsp_agent.store import SessionStore, db, sha256_hex
from lsp_agent.store.packing import PACK_ABOVE, REF

BIG = "".join(f"line {i:07d} of a compressible text\n" for i in range(30_000))  # ~1 MB
assert len(BIG) > PACK_ABOVE


def stored_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        (total,) = conn.execute(
            "SELECT (SELECT total(length(data)) FROM messages)"
            " + (SELECT total(length(data)) FROM events)"
            " + (SELECT total(length(arguments)) FROM tool_calls)"
            " + (SELECT total(length(data)) FROM blobs)"
        ).fetchone()
    return int(total)


def write_call(text: str) -> tuple[AssistantMessage, ToolCallStarted, ToolCallFinished]:
    arguments = {"path": "big.txt", "content": text}
    message = AssistantMessage(
        tool_calls=[
            ToolCall(id="c1", function=FunctionCall(name="write_file", arguments=str(arguments)))
        ]
    )
    started = ToolCallStarted(
        tool_call_id="c1", name="write_file", title="Write", kind="edit", raw_input=arguments
    )
    diff = Diff(path="/ws/big.txt", old_text=text + "old", new_text=text, unified="@@ x @@")
    finished = ToolCallFinished(tool_call_id="c1", status="completed", output="ok", diff=diff)
    return message, started, finished


def test_long_strings_are_stored_once_compressed_and_load_back(
    store: SessionStore, db_path: Path
) -> None:
    sid = store.create_session("/ws").id
    message, started, finished = write_call(BIG)
    store.record_change(sid, 1, "/ws/big.txt", BIG + "old", BIG)  # the snapshots
    store.append_messages(sid, [UserMessage(content="write"), message], turn=1)
    store.append_events(sid, [started, finished])
    # Raw, this is ~6 copies of BIG (message, event, tool_calls row, diff x2, snapshots x2).
    assert stored_bytes(db_path) < len(BIG) // 2
    assert store.load_messages(sid) == [UserMessage(content="write"), message]
    assert store.load_transcript(sid)[0][1] == message
    assert [e.event for e in store.load_events(sid)] == [started, finished]
    [record] = store.tool_calls(sid)
    assert json.loads(record.arguments)["content"] == BIG and record.output == "ok"
    # the diff's new text is the after-snapshot: one blob
    with sqlite3.connect(db_path) as conn:
        refs = {r[0] for r in conn.execute("SELECT sha256 FROM blob_refs")}
    assert sha256_hex(BIG) in refs


def test_packed_blobs_survive_gc_and_go_with_their_session(
    store: SessionStore, db_path: Path
) -> None:
    sid = store.create_session("/ws").id
    _, started, finished = write_call(BIG)
    store.append_events(sid, [started, finished])
    assert store.gc_blobs() == 0
    assert [e.event for e in store.load_events(sid)] == [started, finished]
    store.delete_session(sid)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM blobs").fetchone() == (0,)


def test_a_value_holding_the_marker_is_stored_as_it_is(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    raw = {REF: "not a sha", "content": BIG}
    started = ToolCallStarted(
        tool_call_id="c1", name="write_file", title="Write", kind="edit", raw_input=raw
    )
    store.append_events(sid, [started])
    assert [e.event for e in store.load_events(sid)] == [started]


def test_a_version_5_store_migrates_and_loads(db_path: Path) -> None:
    db_path.parent.mkdir()
    conn = db.open_connection(db_path, target=5)
    conn.execute(
        "INSERT INTO sessions (id, workspace, title, created_at, updated_at)"
        " VALUES ('old', '/ws', 'from v5', 1.0, 2.0)"
    )
    conn.execute(
        "INSERT INTO messages (session_id, position, turn, role, data, created_at)"
        """ VALUES ('old', 0, 1, 'user', '{"role":"user","content":"hi"}', 1.0)"""
    )
    conn.execute(
        "INSERT INTO events (session_id, seq, type, data, created_at)"
        """ VALUES ('old', 0, 'text_delta', '{"type":"text_delta","text":"yo"}', 1.0)"""
    )
    conn.close()

    with SessionStore(db_path) as store:
        assert store.load_messages("old") == [UserMessage(content="hi")]
        assert [e.event.model_dump(exclude_none=True) for e in store.load_events("old")] == [
            {"type": "text_delta", "text": "yo"}
        ]
        _, started, finished = write_call(BIG)
        store.append_events("old", [started, finished])  # version-6 rows beside the old
        assert [e.event for e in store.load_events("old", start=1)] == [started, finished]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (db.SCHEMA_VERSION,)
