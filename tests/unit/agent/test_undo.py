"""Undo: the agent's edits of the last turns are reverted from the store's snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lsp_agent.agent.session import Session, load_session, new_session
from lsp_agent.agent.undo import UndoResult, undo
from lsp_agent.store import AsyncSessionStore
from lsp_agent.workspace import DiskWorkspace
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.unit.agent.test_session import Engine, sent


def edit(path: str, old: str, new: str) -> tuple[str, dict[str, str]]:
    return ("edit_file", {"path": path, "old_string": old, "new_string": new})


def write(path: str, content: str) -> tuple[str, dict[str, str]]:
    return ("write_file", {"path": path, "content": content})


@pytest.fixture
def engine(tmp_path: Path, model_server: FakeModelServer) -> Engine:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n")
    (root / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    return Engine(root.resolve(), model_server, tmp_path / "state" / "sessions.db")


@pytest.fixture
async def store(engine: Engine) -> AsyncIterator[AsyncSessionStore]:
    async with await engine.open() as s:
        yield s


async def two_turns(engine: Engine, store: AsyncSessionStore) -> Session:
    """Turn 1 edits a.txt and crlf.txt and creates new/b.txt; turn 2 edits a.txt again."""
    engine.server.script(
        tool_call_reply(
            [
                edit("a.txt", "alpha", "ALPHA"),
                write("new/b.txt", "fresh\n"),
                edit("crlf.txt", "two", "TWO"),
            ]
        ),
        text_reply("turn one done"),
        tool_call_reply([edit("a.txt", "beta", "BETA")]),
        text_reply("turn two done"),
    )
    session = await new_session(store, engine.root)
    await engine.prompt(store, session, "first change")
    await engine.prompt(store, session, "second change")
    root = engine.root
    assert (root / "a.txt").read_text() == "ALPHA\nBETA\n"
    assert (root / "new" / "b.txt").read_text() == "fresh\n"
    assert (root / "crlf.txt").read_bytes() == b"one\r\nTWO\r\n"
    return session


async def run_undo(
    engine: Engine, store: AsyncSessionStore, turns: int = 1, force: bool = False
) -> UndoResult:
    """As the CLI does it: a freshly loaded session."""
    session = await load_session(store, (await store.latest_session(engine.root)).id)  # type: ignore[union-attr]
    return await undo(store, session, DiskWorkspace([engine.root]), turns, force)


async def test_undo_goes_back_one_turn_at_a_time(engine: Engine, store: AsyncSessionStore) -> None:
    await two_turns(engine, store)
    root = engine.root

    first = await run_undo(engine, store)
    assert first.applied and first.conflicts == [] and first.deleted == []
    assert first.reverted == [str(root / "a.txt")]
    assert (root / "a.txt").read_text() == "ALPHA\nbeta\n"  # turn 1's edit stays
    assert (root / "new" / "b.txt").exists()

    second = await run_undo(engine, store)  # the first undo is recorded: this goes further
    assert second.applied
    assert sorted(second.reverted) == [str(root / "a.txt"), str(root / "crlf.txt")]
    assert second.deleted == [str(root / "new" / "b.txt")]
    assert (root / "a.txt").read_text() == "alpha\nbeta\n"
    assert (root / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"  # line endings kept
    assert not (root / "new" / "b.txt").exists()

    third = await run_undo(engine, store)
    assert not third.applied and third == UndoResult()
    assert len(await store.list_undos((await store.latest_session(root)).id)) == 2  # type: ignore[union-attr]


async def test_undo_several_turns_at_once(engine: Engine, store: AsyncSessionStore) -> None:
    await two_turns(engine, store)
    result = await run_undo(engine, store, turns=2)
    assert result.applied and result.conflicts == []
    assert (engine.root / "a.txt").read_text() == "alpha\nbeta\n"
    assert not (engine.root / "new" / "b.txt").exists()


async def test_a_user_change_is_a_conflict_unless_forced(
    engine: Engine, store: AsyncSessionStore
) -> None:
    await two_turns(engine, store)
    root = engine.root
    (root / "a.txt").write_text("ALPHA\nBETA\nmy own line\n")

    refused = await run_undo(engine, store, turns=2)
    assert not refused.applied
    assert refused.conflicts == [str(root / "a.txt")]
    # nothing changed: not the conflicting file, not the others
    assert (root / "a.txt").read_text() == "ALPHA\nBETA\nmy own line\n"
    assert (root / "new" / "b.txt").exists()
    assert (root / "crlf.txt").read_bytes() == b"one\r\nTWO\r\n"
    sid = (await store.latest_session(root)).id  # type: ignore[union-attr]
    assert await store.list_undos(sid) == []

    forced = await run_undo(engine, store, turns=2, force=True)
    assert forced.applied and forced.conflicts == [str(root / "a.txt")]
    assert (root / "a.txt").read_text() == "alpha\nbeta\n"
    assert not (root / "new" / "b.txt").exists()


async def test_a_deleted_created_file_is_a_conflict(
    engine: Engine, store: AsyncSessionStore
) -> None:
    await two_turns(engine, store)
    (engine.root / "new" / "b.txt").unlink()
    refused = await run_undo(engine, store, turns=2)
    assert refused.conflicts == [str(engine.root / "new" / "b.txt")] and not refused.applied
    forced = await run_undo(engine, store, turns=2, force=True)
    assert forced.applied and (engine.root / "a.txt").read_text() == "alpha\nbeta\n"


async def test_the_model_is_told_on_the_next_prompt(
    engine: Engine, store: AsyncSessionStore
) -> None:
    session = await two_turns(engine, store)
    result = await undo(store, session, DiskWorkspace([engine.root]))
    assert result.applied
    engine.server.script(text_reply("noted"))
    await engine.prompt(store, session, "what now?")
    messages = sent(engine.server)
    note, request = messages[-2], messages[-1]
    assert note["role"] == "user" and "[undo]" in note["content"] and "a.txt" in note["content"]
    assert request == {"role": "user", "content": "what now?"}

    # ... and a resumed session sees the note as well.
    engine.server.script(text_reply("ok"))
    resumed = await load_session(store, session.id)
    await engine.prompt(store, resumed, "again")
    assert any("[undo]" in m["content"] for m in sent(engine.server) if m["role"] == "user")


async def test_nothing_to_undo(engine: Engine, store: AsyncSessionStore) -> None:
    engine.server.script(text_reply("no edits"))
    session = await new_session(store, engine.root)
    await engine.prompt(store, session, "just talk")
    result = await undo(store, session, DiskWorkspace([engine.root]))
    assert result == UndoResult()
    assert session.stored == 2  # no note for the model either
