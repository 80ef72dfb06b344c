"""AsyncSessionStore: the same API, on one worker thread, in call order."""

from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path

import pytest

from lsp_agent.model.wire import UserMessage
from lsp_agent.store import AsyncSessionStore, SessionStore, StoreError


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_store_method_has_an_async_twin() -> None:
    sync, wrapped = public_methods(SessionStore), public_methods(AsyncSessionStore)
    missing = sorted(set(sync) - set(wrapped))
    assert missing == []
    for name, signature in sync.items():
        assert inspect.iscoroutinefunction(getattr(AsyncSessionStore, name)), name
        assert list(wrapped[name].parameters.values()) == list(signature.parameters.values()), name
        assert wrapped[name].return_annotation == signature.return_annotation, name


async def test_round_trip_in_call_order(db_path: Path) -> None:
    async with await AsyncSessionStore.open(db_path) as store:
        sid = (await store.create_session("/ws")).id
        messages = [UserMessage(content=str(i)) for i in range(50)]
        # Submitted together; the single worker thread keeps their order.
        positions = await asyncio.gather(*(store.append_message(sid, m, 1) for m in messages))
        assert positions == list(range(50))
        assert await store.load_messages(sid) == messages
        assert (await store.get_session(sid)).messages == 50


async def test_calls_run_off_the_event_loop_thread(db_path: Path) -> None:
    async with await AsyncSessionStore.open(db_path) as store:
        names = {await store.call(lambda _: threading.current_thread().name) for _ in range(3)}
        assert len(names) == 1
        (name,) = names
        assert name.startswith("lsp-agent-store")
        assert name != threading.current_thread().name


async def test_a_cancelled_caller_does_not_drop_its_write(db_path: Path) -> None:
    async with await AsyncSessionStore.open(db_path) as store:
        sid = (await store.create_session("/ws")).id
        gate = threading.Event()
        blocker = asyncio.create_task(store.call(lambda _: gate.wait(10)))
        writer = asyncio.create_task(store.append_message(sid, UserMessage(content="x"), 1))
        await asyncio.sleep(0)  # let both tasks queue their job; the write waits behind
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        gate.set()
        assert await blocker is True
        assert await store.load_messages(sid) == [UserMessage(content="x")]


async def test_open_errors_and_close(tmp_path: Path) -> None:
    garbage = tmp_path / "sessions.db"
    garbage.write_bytes(b"garbage" * 100)
    with pytest.raises(StoreError):
        await AsyncSessionStore.open(garbage)

    store = await AsyncSessionStore.open(tmp_path / "ok.db")
    assert store.path == tmp_path / "ok.db"
    await store.close()
    await store.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        await store.list_sessions()
