"""What the language server's handlers do with sessions, on top of the engine.

Imported on first use (and warmed up in the background after `initialized`), so that
starting the daemon costs little more than starting pygls.
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp_agent.agent.events import RunFinished
from lsp_agent.agent.session import load_session, new_session
from lsp_agent.agent.undo import undo
from lsp_agent.server import protocol as p
from lsp_agent.server.runs import SessionBusy, editor_workspace, run_prompt
from lsp_agent.server.server import AgentServer, LiveSession
from lsp_agent.server.sink import Progress, UpdateSink
from lsp_agent.server.updates import to_updates
from lsp_agent.server.uris import NotAFileUri, path_to_uri, uri_to_path
from lsp_agent.store import SessionNotFoundError
from lsp_agent.workspace import DiskWorkspace, WorkspaceError

SESSION_BUSY = -32002  # server-defined: the session already runs a prompt

__all__ = ["SessionBusy", "run_prompt"]


async def list_sessions(ls: AgentServer) -> dict[str, Any]:
    store = await ls.require_store()
    found = []
    for root in ls.roots():
        found += await store.list_sessions(str(root))
    found.sort(key=lambda info: info.updated_at, reverse=True)
    return p.ListSessionsResult(
        sessions=[
            p.SessionSummary(
                session_id=info.id,
                title=info.title,
                cwd=info.workspace,
                created_at=_iso(info.created_at),
                updated_at=_iso(info.updated_at),
                turns=info.turns,
            )
            for info in found
        ]
    ).dump()


async def prompt(ls: AgentServer, args: p.PromptParams) -> dict[str, Any]:
    from lsp_agent.server.editor_context import with_context

    live = await find(ls, args.session_id)
    text = await with_context(args.text(), args.context, lambda uri: read_text(ls, uri))
    if not text.strip():
        raise JsonRpcInvalidParams(message="invalid params: prompt: the prompt is empty")
    try:
        finished = await run_prompt(ls, live, text, args.work_done_token)
    except SessionBusy as e:
        raise JsonRpcException(message=str(e), code=SESSION_BUSY) from None
    return prompt_result(finished)


async def create(ls: AgentServer, root: Path, title: str = "") -> LiveSession:
    session = await new_session(await ls.require_store(), root, title)
    return ls.keep(LiveSession(session, seq=ls.sequencer(session.id)))


async def find(ls: AgentServer, session_id: str, *, reload: bool = False) -> LiveSession:
    """A live session, loaded from the store if this daemon has not seen it yet."""
    live = ls.sessions.get(session_id)
    if live is not None and (not reload or live.running):
        return ls.keep(live)
    try:
        session = await load_session(await ls.require_store(), session_id)
    except SessionNotFoundError:
        raise JsonRpcInvalidParams(
            message=f"invalid params: sessionId: no session {session_id!r}"
        ) from None
    return ls.keep(LiveSession(session, seq=ls.sequencer(session_id)))


async def replay(ls: AgentServer, live: LiveSession) -> int:
    """Send a stored session's history as updates; returns how many were sent."""
    sink = UpdateSink(live.session.id, ls.notify, live.seq, Progress(None, None))
    start = live.seq.next
    streamed: set[str] = set()
    store = await ls.require_store()
    for stored in await store.load_events(live.session.id):
        for update in to_updates(stored.event, streamed):
            sink.send_update(update)
    sink.send_update(p.SessionInfoUpdate(title=live.session.info.title or None))
    return live.seq.next - start


async def undo_turns(ls: AgentServer, args: p.UndoParams) -> dict[str, Any]:
    live = await find(ls, args.session_id)
    if live.running:
        raise JsonRpcException(
            message=f"session {args.session_id} is running a prompt: cancel it before undoing",
            code=SESSION_BUSY,
        )
    try:
        result = await undo(
            await ls.require_store(), live.session, editor_workspace(ls), args.turns, args.force
        )
    except WorkspaceError as e:
        raise JsonRpcException(message=f"undo failed: {e}") from None
    return p.UndoResult(
        reverted_uris=[path_to_uri(x) for x in result.reverted + result.deleted],
        conflicts=[path_to_uri(x) for x in result.conflicts],
    ).dump()


def prompt_result(finished: RunFinished) -> dict[str, Any]:
    return p.PromptResult(
        stop_reason=finished.stop_reason,
        usage=p.UsageSummary(**finished.usage.model_dump()),
        cost_usd=finished.cost_usd,
        turns=finished.turns,
        tool_calls=finished.tool_calls,
        edited_uris=[path_to_uri(x) for x in finished.edited_paths],
        error=finished.error,
        limit=finished.limit,
    ).dump()


def cwd(ls: AgentServer, given: str | None) -> Path:
    """The session's workspace: a folder path or file URI inside the roots, else the root."""
    if not given:
        return ls.roots()[0]
    try:
        path = uri_to_path(given) if given.startswith("file:") else Path(given)
        resolved = DiskWorkspace(ls.roots()).resolve(str(path))
    except (NotAFileUri, WorkspaceError) as e:
        raise JsonRpcInvalidParams(message=f"invalid params: cwd: {e}") from None
    if not resolved.is_dir():
        raise JsonRpcInvalidParams(message=f"invalid params: cwd: {given!r} is not a folder")
    return resolved


async def read_text(ls: AgentServer, uri: str) -> tuple[str, str] | None:
    """An open buffer's text, else the file's, with a short name; None if unreadable."""
    try:
        path = uri_to_path(uri)
        name = DiskWorkspace(ls.roots()).display(path)
        doc = ls.workspace.text_documents.get(uri)
        if doc is not None:
            return name, doc.source
        return name, await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")
    except (NotAFileUri, OSError, ValueError):
        return None


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat()
