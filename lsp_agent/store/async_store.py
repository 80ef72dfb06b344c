"""AsyncSessionStore: the store for asyncio code, without ever blocking the event loop.

Every call runs on one dedicated worker thread, so calls run one at a time in the order
they were made (writes keep their order) and the connection only ever sees that thread.
Calls made while the thread is busy wait in a queue and run in one go, with one wake-up of
the thread and one of the event loop for the lot: a turn's few writes cost one hop, not one
each (each is still its own transaction, committed before its caller resumes).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from lsp_agent.agent.events import Event
from lsp_agent.model.wire import Message, Usage
from lsp_agent.store.db import StoreError
from lsp_agent.store.sessions import RunInfo, SessionInfo, UsageTotals
from lsp_agent.store.snapshots import Content, FileChange, PathChange, UndoRecord
from lsp_agent.store.store import SessionStore
from lsp_agent.store.transcript import StoredEvent, ToolCallRecord

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class _Job:
    run: Callable[[], Any]
    future: asyncio.Future[Any]


def _settle(results: list[tuple[_Job, Any, BaseException | None]]) -> None:
    for job, value, error in results:
        if job.future.done():  # cancelled: shield keeps the caller's cancel off the write
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(value)


def _worker() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="lsp-agent-store")


class AsyncSessionStore:
    """The SessionStore API with `async` methods (see SessionStore for what each does)."""

    def __init__(self, store: SessionStore, executor: ThreadPoolExecutor | None = None) -> None:
        self.sync = store  # use it only through `call`, which runs on the store's thread
        self._executor = executor or _worker()
        self._closed = False
        self._queue: list[_Job] = []  # calls not yet taken by the thread
        self._draining = False  # a drain job is queued or running on the thread
        self._lock = threading.Lock()

    @classmethod
    async def open(cls, path: Path, *, secrets: Iterable[str] = ()) -> AsyncSessionStore:
        """Open (create, migrate) the store on its thread: even opening may wait on a lock."""
        executor = _worker()
        loop = asyncio.get_running_loop()
        try:
            store = await loop.run_in_executor(
                executor, lambda: SessionStore(path, secrets=secrets)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor)

    @property
    def path(self) -> Path:
        return self.sync.path

    async def call(
        self, fn: Callable[Concatenate[SessionStore, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(store, ...)` on the store's thread, e.g. `call(SessionStore.load_messages, sid)`.

        Shielded: cancelling the caller does not drop a write already queued, so what the
        engine handed over before a cancel is still persisted, in order.
        """
        if self._closed:
            raise StoreError(f"the session store {self.path} is closed", self.path)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        job = _Job(lambda: fn(self.sync, *args, **kwargs), future)
        with self._lock:
            self._queue.append(job)
            start, self._draining = not self._draining, True
        if start:
            try:
                self._executor.submit(self._drain)
            except BaseException:
                with self._lock:  # not run: the caller hears why, and it never runs later
                    self._draining = False
                    self._queue.remove(job)
                raise
        return await asyncio.shield(future)

    def _drain(self) -> None:
        """On the store's thread: run every queued call, then hand the results back to each
        caller's loop in one callback."""
        while True:
            with self._lock:
                jobs, self._queue = self._queue, []
                if not jobs:
                    self._draining = False
                    return
            done: dict[asyncio.AbstractEventLoop, list[tuple[_Job, Any, BaseException | None]]]
            done = {}
            for job in jobs:
                try:
                    outcome: tuple[Any, BaseException | None] = (job.run(), None)
                except BaseException as e:  # handed to the caller
                    outcome = (None, e)
                done.setdefault(job.future.get_loop(), []).append((job, *outcome))
            for loop, results in done.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(_settle, results)

    async def close(self) -> None:
        """Close the connection after every call queued so far, then stop the thread."""
        if self._closed:
            return
        try:
            await self.call(SessionStore.close)
        finally:
            self._closed = True
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncSessionStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- sessions -------------------------------------------------------------

    async def create_session(
        self, workspace: str | os.PathLike[str], title: str = ""
    ) -> SessionInfo:
        return await self.call(SessionStore.create_session, workspace, title)

    async def get_session(self, session_id: str) -> SessionInfo:
        return await self.call(SessionStore.get_session, session_id)

    async def resolve_session_id(self, prefix: str) -> str:
        return await self.call(SessionStore.resolve_session_id, prefix)

    async def list_sessions(
        self,
        workspace: str | os.PathLike[str] | None = None,
        limit: int | None = None,
        *,
        nested: bool = False,
    ) -> list[SessionInfo]:
        return await self.call(SessionStore.list_sessions, workspace, limit, nested=nested)

    async def latest_session(self, workspace: str | os.PathLike[str]) -> SessionInfo | None:
        return await self.call(SessionStore.latest_session, workspace)

    async def set_title(self, session_id: str, title: str) -> None:
        return await self.call(SessionStore.set_title, session_id, title)

    async def touch(self, session_id: str) -> None:
        return await self.call(SessionStore.touch, session_id)

    async def save_config(self, session_id: str, config: dict[str, Any]) -> None:
        return await self.call(SessionStore.save_config, session_id, config)

    async def load_config(self, session_id: str) -> dict[str, Any]:
        return await self.call(SessionStore.load_config, session_id)

    async def delete_session(self, session_id: str) -> None:
        return await self.call(SessionStore.delete_session, session_id)

    # --- usage per run --------------------------------------------------------

    async def start_run(self, session_id: str, model: str = "") -> int:
        return await self.call(SessionStore.start_run, session_id, model)

    async def record_usage(self, run_id: int, usage: Usage, cost_usd: float | None = None) -> None:
        return await self.call(SessionStore.record_usage, run_id, usage, cost_usd)

    async def finish_run(self, run_id: int, stop_reason: str) -> None:
        return await self.call(SessionStore.finish_run, run_id, stop_reason)

    async def list_runs(self, session_id: str) -> list[RunInfo]:
        return await self.call(SessionStore.list_runs, session_id)

    async def session_usage(self, session_id: str) -> UsageTotals:
        return await self.call(SessionStore.session_usage, session_id)

    # --- messages -------------------------------------------------------------

    async def append_message(self, session_id: str, message: Message, turn: int) -> int:
        return await self.call(SessionStore.append_message, session_id, message, turn)

    async def append_messages(
        self, session_id: str, messages: Sequence[Message], turn: int
    ) -> list[int]:
        return await self.call(SessionStore.append_messages, session_id, messages, turn)

    async def load_messages(self, session_id: str) -> list[Message]:
        return await self.call(SessionStore.load_messages, session_id)

    async def last_turn(self, session_id: str) -> int:
        return await self.call(SessionStore.last_turn, session_id)

    async def save_checkpoint(
        self, session_id: str, position: int, prefix: Sequence[Message]
    ) -> None:
        await self.call(SessionStore.save_checkpoint, session_id, position, prefix)

    async def load_transcript(self, session_id: str) -> tuple[list[Message], int]:
        return await self.call(SessionStore.load_transcript, session_id)

    async def repair_session(self, session_id: str) -> list[Message]:
        return await self.call(SessionStore.repair_session, session_id)

    # --- events and tool calls ------------------------------------------------

    async def append_event(self, session_id: str, event: Event) -> int:
        return await self.call(SessionStore.append_event, session_id, event)

    async def append_events(self, session_id: str, events: Sequence[Event]) -> list[int]:
        return await self.call(SessionStore.append_events, session_id, events)

    async def load_events(self, session_id: str, start: int = 0) -> list[StoredEvent]:
        return await self.call(SessionStore.load_events, session_id, start)

    async def tool_calls(self, session_id: str) -> list[ToolCallRecord]:
        return await self.call(SessionStore.tool_calls, session_id)

    async def interrupt_tool_calls(self, session_id: str) -> int:
        return await self.call(SessionStore.interrupt_tool_calls, session_id)

    # --- file history ---------------------------------------------------------

    async def put_blob(self, content: Content) -> str:
        return await self.call(SessionStore.put_blob, content)

    async def read_blob(self, sha256: str) -> bytes:
        return await self.call(SessionStore.read_blob, sha256)

    async def gc_blobs(self) -> int:
        return await self.call(SessionStore.gc_blobs)

    async def record_change(
        self,
        session_id: str,
        turn: int,
        path: str | os.PathLike[str],
        before: Content | None,
        after: Content | None,
    ) -> FileChange:
        return await self.call(SessionStore.record_change, session_id, turn, path, before, after)

    async def file_changes(self, session_id: str) -> list[FileChange]:
        return await self.call(SessionStore.file_changes, session_id)

    async def changes_in_last_turns(self, session_id: str, turns: int = 1) -> list[PathChange]:
        return await self.call(SessionStore.changes_in_last_turns, session_id, turns)

    async def record_undo(self, session_id: str, change_ids: Sequence[int]) -> UndoRecord:
        return await self.call(SessionStore.record_undo, session_id, change_ids)

    async def list_undos(self, session_id: str) -> list[UndoRecord]:
        return await self.call(SessionStore.list_undos, session_id)

    # --- maintenance ----------------------------------------------------------

    async def check(self) -> list[str]:
        return await self.call(SessionStore.check)
