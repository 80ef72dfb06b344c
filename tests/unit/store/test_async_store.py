"""AsyncSessionStore: the same API, on one worker thread, in call order."""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="lsp-agent-store")
        self.submits = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.submits += 1
        return super().submit(*args, **kwargs)


async def test_calls_queued_behind_a_busy_thread_run_in_one_go(db_path: Path) -> None:
    """One hop for the lot (a turn's writes), yet each caller gets its own result, a failing
    call fails only its caller, and the order is the order of the calls."""
    executor = CountingExecutor()
    store = AsyncSessionStore(SessionStore(db_path), executor)
    try:
        sid = (await store.create_session("/ws")).id
        gate, running = threading.Event(), threading.Event()

        def block(_: SessionStore) -> bool:
            running.set()
            return gate.wait(10)

        blocker = asyncio.create_task(store.call(block))
        assert await asyncio.to_thread(running.wait, 10)  # the thread is busy now
        before = executor.submits
        writes = [store.append_message(sid, UserMessage(content=str(i)), 1) for i in range(3)]
        queued = [
            asyncio.ensure_future(writes[0]),
            asyncio.ensure_future(store.get_session("no-such-session")),
            *map(asyncio.ensure_future, writes[1:]),
        ]
        gate.set()
        results = await asyncio.gather(blocker, *queued, return_exceptions=True)
        assert results[0] is True
        assert results[1] == 0 and results[3:] == [1, 2]
        assert isinstance(results[2], StoreError)
        assert executor.submits - before <= 1  # queued behind the blocker: no hop of their own
        assert [m.content for m in await store.load_messages(sid)] == ["0", "1", "2"]
    finally:
        await store.close()
