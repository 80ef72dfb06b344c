"""SessionStore: the synchronous store, one SQLite connection (see async_store for asyncio)."""

from __future__ import annotations

from types import TracebackType

from lsp_agent.store.sessions import Sessions
from lsp_agent.store.snapshots import Snapshots
from lsp_agent.store.transcript import Transcript


class SessionStore(Sessions, Transcript, Snapshots):
    """Sessions, transcripts, events, usage and file history in one SQLite file.

    `SessionStore(path, secrets=...)` opens or creates the file (raising StoreError if it
    is not a usable store) and migrates it. Every write method commits before returning.
    Use it from one thread at a time; asyncio code uses AsyncSessionStore.
    """

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
