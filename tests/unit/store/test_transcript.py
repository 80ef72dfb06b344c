"""Messages, events and tool calls: exact round trips, repair in place, secrets scrubbed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lsp_agent.agent.events import (
    Diff,
    Event,
    PlanEntry,
    PlanUpdated,
    RunFinished,
    RunStarted,
    TextDelta,
    ThoughtDelta,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    ToolOutputDelta,
    UsageInfo,
    UsageUpdated,
)
from lsp_agent.model.wire import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
from lsp_agent.store import (
    INTERRUPTED,
    REDACTED,
    SessionNotFoundError,
    SessionStore,
    redact,
)
from tests.unit.store.conftest import assistant, call, result

TRANSCRIPT: list[Message] = [
    SystemMessage(content="You are a coding agent."),
    UserMessage(content='Fix ünïcödé 🐍 and "quotes" \\ backslashes\n'),
    AssistantMessage(
        content=None,
        reasoning="The user wants a fix; read the file first.",
        tool_calls=[call("c1"), call("c2", "grep", '{"pattern": "x"')],  # broken JSON kept
    ),
    ToolMessage(tool_call_id="c1", content="def f(): ..."),
    ToolMessage(tool_call_id="c2", content=""),
    AssistantMessage(content="Done.", tool_calls=None, reasoning=None),
    AssistantMessage(content="", tool_calls=[]),
]


def test_messages_round_trip_exactly(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    positions = [store.append_message(sid, m, turn=1 + i // 4) for i, m in enumerate(TRANSCRIPT)]
    assert positions == list(range(len(TRANSCRIPT)))
    loaded = store.load_messages(sid)
    assert loaded == TRANSCRIPT
    assert [type(m) for m in loaded] == [type(m) for m in TRANSCRIPT]
    assert loaded[2].reasoning == "The user wants a fix; read the file first."  # type: ignore[union-attr]
    assert store.last_turn(sid) == 2
    assert store.get_session(sid).turns == 2


def test_append_messages_in_one_batch_continues_positions(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    assert store.append_messages(sid, TRANSCRIPT[:2], 1) == [0, 1]
    assert store.append_messages(sid, [], 1) == []
    assert store.append_messages(sid, TRANSCRIPT[2:], 2) == list(range(2, len(TRANSCRIPT)))
    assert store.load_messages(sid) == TRANSCRIPT


def test_sessions_do_not_mix(store: SessionStore) -> None:
    a, b = store.create_session("/ws").id, store.create_session("/ws").id
    store.append_message(a, UserMessage(content="a"), 1)
    store.append_message(b, UserMessage(content="b"), 1)
    assert store.load_messages(a) == [UserMessage(content="a")]
    assert store.load_messages(b) == [UserMessage(content="b")]


def test_unknown_session(store: SessionStore, db_path: Path) -> None:
    sid = store.create_session("/ws").id
    assert store.load_messages(sid) == []
    assert store.load_events(sid) == []
    assert store.last_turn(sid) == 0
    for attempt in (
        lambda: store.append_message("missing", UserMessage(content="x"), 1),
        lambda: store.append_event("missing", TextDelta(text="x")),
        lambda: store.load_messages("missing"),
        lambda: store.load_events("missing"),
        lambda: store.repair_session("missing"),
    ):
        with pytest.raises(SessionNotFoundError):
            attempt()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


# --- events and tool calls ----------------------------------------------------------------

EVENTS: list[Event] = [
    RunStarted(model="m", workspace="/ws", prompt="go", instructions=["AGENTS.md"]),
    ThoughtDelta(text="hmm"),
    TextDelta(text="Reading"),
    ToolCallStarted(
        tool_call_id="c1",
        name="read_file",
        title="Read a.py",
        kind="read",
        raw_input={"path": "a.py"},
        locations=["a.py"],
    ),
    ToolCallProgress(tool_call_id="c1"),
    ToolOutputDelta(tool_call_id="c1", stream="stderr", text="warn"),
    ToolCallFinished(
        tool_call_id="c1",
        status="completed",
        output="1: x",
        diff=Diff(path="a.py", old_text=None, new_text="x", unified="+x"),
    ),
    PlanUpdated(entries=[PlanEntry(content="step", status="in_progress", priority="high")]),
    UsageUpdated(usage=UsageInfo(prompt_tokens=3, total_tokens=3), context_used=3),
    RunFinished(
        stop_reason="end_turn",
        usage=UsageInfo(),
        turns=1,
        tool_calls=1,
        duration_s=0.5,
        edited_paths=["a.py"],
    ),
]


def test_events_round_trip_in_order(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    assert store.append_event(sid, EVENTS[0]) == 0
    assert store.append_events(sid, EVENTS[1:]) == list(range(1, len(EVENTS)))
    loaded = store.load_events(sid)
    assert [e.event for e in loaded] == EVENTS
    assert [e.seq for e in loaded] == list(range(len(EVENTS)))
    assert [e.event for e in store.load_events(sid, start=7)] == EVENTS[7:]


def started(call_id: str, raw_input: dict[str, object] | str) -> ToolCallStarted:
    return ToolCallStarted(
        tool_call_id=call_id, name="shell", title="Run", kind="execute", raw_input=raw_input
    )


def test_tool_calls_are_derived_from_events(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    store.append_events(
        sid,
        [
            started("call_0", {"command": "ls"}),
            ToolCallProgress(tool_call_id="call_0"),
            ToolCallFinished(tool_call_id="call_0", status="completed", output="a.py"),
            started("call_1", "not json"),
            ToolCallFinished(tool_call_id="call_1", status="denied", output="denied by user"),
            started("call_0", {"command": "pwd"}),  # a later turn reuses the id
            ToolCallProgress(tool_call_id="call_0"),
        ],
    )
    calls = store.tool_calls(sid)
    assert [(c.tool_call_id, c.status, c.output) for c in calls] == [
        ("call_0", "completed", "a.py"),
        ("call_1", "denied", "denied by user"),
        ("call_0", "in_progress", None),
    ]
    assert json.loads(calls[0].arguments) == {"command": "ls"}
    assert calls[1].arguments == "not json"
    assert (calls[0].name, calls[0].title, calls[0].kind) == ("shell", "Run", "execute")

    assert store.interrupt_tool_calls(sid) == 1
    last = store.tool_calls(sid)[-1]
    assert (last.status, last.output) == ("failed", INTERRUPTED)
    assert store.interrupt_tool_calls(sid) == 0


# --- repair in place ----------------------------------------------------------------------


def test_repair_session_stores_the_repair(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    store.append_messages(sid, [UserMessage(content="go"), assistant("a", "b")], 1)
    store.append_message(sid, result("a"), 1)
    store.append_message(sid, result("zzz"), 1)  # an orphan
    store.append_messages(sid, [UserMessage(content="again"), assistant("c")], 2)
    # ... and the process died before c ran, and before b finished.

    repaired = store.repair_session(sid)

    expected = [
        UserMessage(content="go"),
        assistant("a", "b"),
        result("a"),
        ToolMessage(tool_call_id="b", content=INTERRUPTED),
        UserMessage(content="again"),
        assistant("c"),
        ToolMessage(tool_call_id="c", content=INTERRUPTED),
    ]
    assert repaired == expected
    assert store.load_messages(sid) == expected
    assert store.last_turn(sid) == 2
    assert store.get_session(sid).messages == len(expected)
    assert store.repair_session(sid) == expected  # nothing left to do
    # The added results belong to the turn of the call they answer.
    assert store.append_message(sid, UserMessage(content="next"), 3) == len(expected)


def test_repair_session_leaves_a_valid_transcript_alone(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    valid = [UserMessage(content="go"), assistant("a"), result("a"), AssistantMessage(content="ok")]
    store.append_messages(sid, valid, 1)
    assert store.repair_session(sid) == valid
    assert store.load_messages(sid) == valid


# --- secrets ----------------------------------------------------------------------------

SECRET = "sk-live-0123456789abcdef"
AWKWARD = 'pa"ss\\wörd'  # JSON would escape it: the scrubbing must not miss it


def test_secrets_are_never_written(db_path: Path) -> None:
    with SessionStore(db_path, secrets={SECRET, AWKWARD, "ab", ""}) as store:
        sid = store.create_session("/ws", f"use {SECRET}").id
        store.append_messages(
            sid,
            [
                UserMessage(content=f"my key is {SECRET} and password {AWKWARD}, a tab"),
                AssistantMessage(
                    content=None,
                    reasoning=f"the key {SECRET}",
                    tool_calls=[call("c1", "shell", json.dumps({"env": {SECRET: AWKWARD}}))],
                ),
                ToolMessage(tool_call_id="c1", content=f"echo {SECRET}"),
            ],
            1,
        )
        store.append_events(
            sid,
            [
                started("c1", {"command": f"curl -H 'Authorization: Bearer {SECRET}'"}),
                ToolCallFinished(tool_call_id="c1", status="completed", output=AWKWARD),
            ],
        )
        store.set_title(sid, SECRET)

        text = json.dumps(
            [
                m.model_dump() | {"r": getattr(m, "reasoning", None)}
                for m in store.load_messages(sid)
            ]
        )
        text += json.dumps([e.event.model_dump() for e in store.load_events(sid)])
        text += json.dumps([c.model_dump() for c in store.tool_calls(sid)])
        text += store.get_session(sid).title
        assert SECRET not in text and AWKWARD not in text
        assert REDACTED in store.get_session(sid).title
        # Secrets shorter than 4 characters would shred everything: they are ignored.
        assert "a tab" in store.load_messages(sid)[0].content  # type: ignore[operator]

    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir())
    escaped = {json.dumps(AWKWARD, ensure_ascii=a)[1:-1] for a in (True, False)}
    for secret in (SECRET, AWKWARD, *escaped):
        assert secret.encode() not in raw


def test_redact() -> None:
    assert redact("a KEY and KEYS", {"KEY"}) == f"a {REDACTED} and {REDACTED}S"
    assert redact("token abc123xyz", {"abc", "abc123xyz"}) == f"token {REDACTED}"
    assert redact("nothing (here)", {"", "("}) == f"nothing {REDACTED}here)"
    assert redact("plain", []) == "plain"
