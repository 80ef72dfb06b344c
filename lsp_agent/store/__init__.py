"""Crash-safe sessions in SQLite: transcripts, events, usage, and file history for undo.

Importing this package opens nothing; `SessionStore(path)` / `AsyncSessionStore.open(path)`
do. The file is `default_store_path()` (`sessions.db` in `state_dir()`).
"""

from lsp_agent.store.async_store import AsyncSessionStore
from lsp_agent.store.db import (
    SCHEMA_VERSION,
    STATE_DIR_ENV,
    SessionNotFoundError,
    StoreError,
    default_store_path,
    state_dir,
)
from lsp_agent.store.redact import REDACTED, redact
from lsp_agent.store.repair import INTERRUPTED, repair
from lsp_agent.store.sessions import RunInfo, SessionInfo, UsageTotals, title_from_prompt
from lsp_agent.store.snapshots import FileChange, PathChange, UndoRecord, sha256_hex
from lsp_agent.store.store import SessionStore
from lsp_agent.store.transcript import StoredEvent, ToolCallRecord

__all__ = [
    "INTERRUPTED",
    "REDACTED",
    "SCHEMA_VERSION",
    "STATE_DIR_ENV",
    "AsyncSessionStore",
    "FileChange",
    "PathChange",
    "RunInfo",
    "SessionInfo",
    "SessionNotFoundError",
    "SessionStore",
    "StoreError",
    "StoredEvent",
    "ToolCallRecord",
    "UndoRecord",
    "UsageTotals",
    "default_store_path",
    "redact",
    "repair",
    "sha256_hex",
    "state_dir",
    "title_from_prompt",
]
