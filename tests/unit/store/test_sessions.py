"""Sessions: create, find, list, title, delete, and token usage per run."""

from __future__ import annotations

import sqlite3
import string
from pathlib import Path

import pytest

from lsp_agent.agent.events import ToolCallStarted
from lsp_agent.model.wire import Usage, UserMessage
from lsp_agent.store import SessionNotFoundError, SessionStore, StoreError, title_from_prompt
from tests.unit.store.conftest import FakeClock, assistant, result


def test_create_and_get(store: SessionStore, clock: FakeClock) -> None:
    info = store.create_session(Path("/ws/project"), "First")
    assert len(info.id) >= 12
    assert set(info.id) <= set(string.ascii_lowercase + string.digits)
    assert store.get_session(info.id) == info
    assert info.workspace == "/ws/project"
    assert info.created_at == info.updated_at
    assert (info.turns, info.messages) == (0, 0)


def test_ids_are_random(store: SessionStore) -> None:
    ids = {store.create_session("/ws").id for _ in range(50)}
    assert len(ids) == 50


def test_get_unknown_session(store: SessionStore) -> None:
    with pytest.raises(SessionNotFoundError, match="nope"):
        store.get_session("nope")


def test_list_newest_first_with_turn_counts(store: SessionStore, clock: FakeClock) -> None:
    a = store.create_session("/ws/a", "a").id
    b = store.create_session("/ws/b", "b").id
    c = store.create_session("/ws/a", "c").id
    store.append_message(a, UserMessage(content="1"), 1)
    store.append_message(a, UserMessage(content="2"), 1)
    store.append_message(a, UserMessage(content="3"), 2)

    listed = store.list_sessions()
    assert [s.id for s in listed] == [a, c, b]  # a was updated by its messages
    assert (listed[0].turns, listed[0].messages) == (2, 3)
    assert (listed[1].turns, listed[1].messages) == (0, 0)
    assert [s.id for s in store.list_sessions("/ws/a")] == [a, c]
    assert [s.id for s in store.list_sessions(Path("/ws/a"), limit=1)] == [a]
    assert store.list_sessions("/elsewhere") == []


def test_latest_and_touch(store: SessionStore, clock: FakeClock) -> None:
    assert store.latest_session("/ws") is None
    first = store.create_session("/ws").id
    second = store.create_session("/ws").id
    store.create_session("/other")
    assert store.latest_session("/ws").id == second  # type: ignore[union-attr]
    store.touch(first)
    assert store.latest_session("/ws").id == first  # type: ignore[union-attr]
    with pytest.raises(SessionNotFoundError):
        store.touch("missing")


def test_set_title(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    store.set_title(sid, "Fix the parser")
    assert store.get_session(sid).title == "Fix the parser"
    with pytest.raises(SessionNotFoundError):
        store.set_title("missing", "x")


def test_resolve_session_id_by_prefix(store: SessionStore) -> None:
    ids = [store.create_session("/ws").id for _ in range(40)]
    target = ids[0]
    assert store.resolve_session_id(target) == target
    unique = next(
        target[:n] for n in range(1, len(target)) if sum(i.startswith(target[:n]) for i in ids) == 1
    )
    assert store.resolve_session_id(unique) == target
    with pytest.raises(SessionNotFoundError):
        store.resolve_session_id("-not-an-id")
    with pytest.raises(SessionNotFoundError):
        store.resolve_session_id("")
    shared = next(
        p for p in (i[:1] for i in ids) if sum(i.startswith(p) for i in ids) > 1
    )  # 40 ids over 36 first letters: some first letter repeats
    with pytest.raises(StoreError, match="more than one"):
        store.resolve_session_id(shared)


def count_rows(path: Path, table: str, session_id: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(
            conn.execute(
                f"SELECT count(*) FROM {table} WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
        )


OWNED = ("messages", "events", "tool_calls", "runs", "file_changes", "undos")


def test_delete_cascades_to_everything_the_session_owns(store: SessionStore, db_path: Path) -> None:
    sids = [store.create_session("/ws").id for _ in range(2)]
    for sid in sids:
        store.append_messages(sid, [assistant("c1"), result("c1")], 1)
        store.append_event(
            sid,
            ToolCallStarted(
                tool_call_id="c1", name="read_file", title="Read", kind="read", raw_input={}
            ),
        )
        store.record_usage(store.start_run(sid, "m"), Usage(prompt_tokens=5))
        change = store.record_change(sid, 1, "a.py", "old " + sid, "new")
        store.record_undo(sid, [change.id])
    doomed, kept = sids
    assert all(count_rows(db_path, table, doomed) > 0 for table in OWNED)

    store.delete_session(doomed)

    for table in OWNED:
        assert count_rows(db_path, table, doomed) == 0, table
        assert count_rows(db_path, table, kept) > 0, table
    with pytest.raises(SessionNotFoundError):
        store.get_session(doomed)
    with pytest.raises(SessionNotFoundError):
        store.delete_session(doomed)
    assert [s.id for s in store.list_sessions()] == [kept]


# --- usage ----------------------------------------------------------------------------


def test_usage_is_kept_per_run_and_summed(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    first = store.start_run(sid, "model-a")
    store.record_usage(first, Usage(prompt_tokens=10, completion_tokens=2), 0.01)
    # The engine reports the run's running total again and again: set, never add.
    store.record_usage(first, Usage(prompt_tokens=30, completion_tokens=5, cached_tokens=8), 0.03)
    store.finish_run(first, "end_turn")
    second = store.start_run(sid, "model-a")  # a resumed session: a new row
    store.record_usage(second, Usage(prompt_tokens=7, reasoning_tokens=3), 0.02)

    totals = store.session_usage(sid)
    assert totals.usage == Usage(
        prompt_tokens=37, completion_tokens=5, cached_tokens=8, reasoning_tokens=3
    )
    assert totals.cost_usd == pytest.approx(0.05)
    assert totals.runs == 2
    runs = store.list_runs(sid)
    assert [(r.id, r.stop_reason) for r in runs] == [(first, "end_turn"), (second, None)]
    assert runs[0].finished_at is not None and runs[1].finished_at is None
    assert runs[0].usage.prompt_tokens == 30


def test_usage_without_price_or_runs(store: SessionStore) -> None:
    sid = store.create_session("/ws").id
    empty = store.session_usage(sid)
    assert (empty.usage, empty.cost_usd, empty.runs) == (Usage(), None, 0)
    store.record_usage(store.start_run(sid), Usage(prompt_tokens=1))
    assert store.session_usage(sid).cost_usd is None


def test_run_errors(store: SessionStore) -> None:
    with pytest.raises(SessionNotFoundError):
        store.start_run("missing")
    with pytest.raises(StoreError, match="no run 999"):
        store.record_usage(999, Usage())


# --- titles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("Fix the bug", "Fix the bug"),
        ("\n\n   fix   the\tbug  \nand more lines", "fix the bug"),
        ("", ""),
        ("   \n \n", ""),
        ("x" * 60, "x" * 60),
        ("x" * 61, "x" * 59 + "…"),
        (
            "Refactor the session store so that the repair runs before every resume please",
            "Refactor the session store so that the repair runs before…",
        ),
    ],
)
def test_title_from_prompt(prompt: str, title: str) -> None:
    assert title_from_prompt(prompt) == title
    assert len(title_from_prompt(prompt)) <= 60
