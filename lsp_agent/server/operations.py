"""The language server's side of sessions: the LSP adapter over the session service.

It turns params into service calls (with the editor-aware workspace, the update sink and
`$/progress`, the permission gate) and service errors into JSON-RPC errors. Imported on
first use (and warmed up in the background after `initialized`), so that starting the
daemon costs little more than starting pygls.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp_agent.agent.edit_scope import EditScope
from lsp_agent.agent.events import RunFinished, UsageInfo
from lsp_agent.agent.service import (
    LiveSession,
    RunParts,
    ServiceError,
    SessionBusy,
    SessionService,
    UnknownSession,
)
from lsp_agent.server import local_model
from lsp_agent.server import protocol as p
from lsp_agent.server.diagnostics import diagnostics_tool, with_feedback
from lsp_agent.server.editor_workspace import EditorWorkspace, EditTimeout
from lsp_agent.server.gate import EditorGate
from lsp_agent.server.language import EditorLanguage
from lsp_agent.server.reviewer import Reviewer, ask_review
from lsp_agent.server.server import AgentServer
from lsp_agent.server.sink import Progress, UpdateSink
from lsp_agent.server.updates import to_updates
from lsp_agent.server.uris import NotAFileUri, path_to_uri, uri_to_path
from lsp_agent.tools import default_tools
from lsp_agent.tools.base import ToolSet
from lsp_agent.workspace import DiskWorkspace, WorkspaceError

SESSION_BUSY = -32002  # server-defined: the session already runs a prompt


async def service(ls: AgentServer) -> SessionService:
    svc = await ls.require_service()
    if svc.store is None:
        raise JsonRpcException(message=f"sessions are unavailable: {svc.store_error}")
    return svc


def _wire_error(e: ServiceError) -> JsonRpcException:
    if isinstance(e, UnknownSession):
        return JsonRpcInvalidParams(message=f"invalid params: sessionId: {e}")
    if isinstance(e, SessionBusy):
        return JsonRpcException(message=f"{e} with agent/session/cancel", code=SESSION_BUSY)
    return JsonRpcException(message=str(e))


async def create(ls: AgentServer, root: Path, title: str = "") -> LiveSession:
    return await (await service(ls)).create(root, title)


async def find(ls: AgentServer, session_id: str, *, reload: bool = False) -> LiveSession:
    try:
        return await (await service(ls)).find(session_id, reload=reload)
    except ServiceError as e:
        raise _wire_error(e) from None


async def list_sessions(ls: AgentServer) -> dict[str, Any]:
    found = await (await service(ls)).list_sessions(ls.roots())
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
    from lsp_agent.server.prompt_content import PromptProblem, inline_edit, prompt_text

    live = await find(ls, args.session_id)
    workspace = editor_workspace(ls, live.session.root)
    scope = None
    try:
        text = prompt_text(args.prompt, workspace)
        if not text.strip():
            raise PromptProblem("prompt: the prompt is empty")
        if args.inline_edit is not None:
            text, scope = await inline_edit(text, args.inline_edit, workspace)
    except PromptProblem as e:
        raise JsonRpcInvalidParams(message=f"invalid params: {e}") from None
    text = await with_context(text, args.context, lambda uri: read_text(ls, uri))
    try:
        finished = await run_prompt(ls, live, text, args.work_done_token, scope)
    except ServiceError as e:
        raise _wire_error(e) from None
    return prompt_result(finished)


async def run_prompt(
    ls: AgentServer,
    live: LiveSession,
    text: str,
    token: Any = None,
    scope: EditScope | None = None,
) -> RunFinished:
    """Run a prompt through the service, with `$/progress` around it. The three LSP ways
    to cancel ($/cancelRequest, agent/session/cancel, workDoneProgress/cancel) all reach
    the service's cancel."""
    svc = await service(ls)
    progress = Progress(None, None)

    async def parts(live: LiveSession) -> RunParts:
        nonlocal progress
        live.progress_token = token if token is not None else await _new_token(ls)
        progress = Progress(ls.notify, live.progress_token)
        progress("begin", title="Agent", message=_first_line(text), cancellable=True)
        sink = UpdateSink(live.session.id, ls.notify, live.seq, progress)
        settings = await local_model.run_settings(ls)
        workspace, gate, tools = _editor_parts(ls, live)
        return RunParts(
            settings=settings,
            workspace=workspace,
            sink=sink,
            gate=gate,
            tools=tools,
            language=editor_language(ls) if ls.agent_caps.language_features else None,
            scope=scope,
        )

    title = live.session.info.title
    finished: RunFinished | None = None
    try:
        finished = await svc.prompt(live, text, parts)
    except local_model.ModelProblem as e:  # no model to run with: say what to do
        ls.show_error(f"lsp-agent: {e}")
        finished = RunFinished(
            stop_reason="model_error",
            usage=UsageInfo(),
            turns=0,
            tool_calls=0,
            duration_s=0,
            error=str(e),
        )
    finally:
        if live.session.info.title != title:  # the first prompt named the session
            UpdateSink(live.session.id, ls.notify, live.seq, progress).send_update(
                p.SessionInfoUpdate(title=live.session.info.title)
            )
        cancelled = finished is not None and finished.stop_reason == "cancelled"
        progress("end", message="cancelled" if cancelled else "failed")  # unless already ended
        live.progress_token = None
    return finished


def _editor_parts(
    ls: AgentServer, live: LiveSession
) -> tuple[EditorWorkspace, EditorGate, ToolSet]:
    caps = ls.agent_caps
    tools = list(default_tools())
    # with languageFeatures, the language tools' own diagnostics (and check after every
    # edit) come from the editor instead: see editor_language
    if caps.get_diagnostics and not caps.language_features:

        async def get(uris: list[str] | None) -> Any:
            msg_id = f"diag-{uuid.uuid4().hex[:12]}"
            params = p.GetDiagnosticsParams(uris=uris).dump()
            return await ls.request(p.GET_DIAGNOSTICS, params, msg_id)

        tools = [with_feedback(t, get) if t.kind == "edit" else t for t in tools]
        tools.append(diagnostics_tool(get))
    # Without the agent capability, window/showMessageRequest asks; a client that cannot
    # answer it makes the gate fail, and a failed gate denies.
    gate = EditorGate(
        live.session.id, ls.request, ls.notify, agent_protocol=caps.request_permission
    )
    workspace = editor_workspace(ls, live.session.root)
    workspace.reviewer = reviewer(ls, live)
    return workspace, gate, ToolSet(tools)


def reviewer(ls: AgentServer, live: LiveSession) -> Reviewer | None:
    """Who reviews the session's edits (editor.review "hunks" / "file"): the user in the
    editor's review view, or the client's own confirmation of annotated edits."""
    settings = live.config.apply(ls.config).editor
    if settings.review == "auto":
        return None
    if ls.agent_caps.review:

        async def ask(params: dict[str, Any]) -> Any:
            msg_id = f"review-{uuid.uuid4().hex[:12]}"
            return await ask_review(
                ls.request, ls.notify, settings.review_timeout_s, msg_id, params
            )

        return Reviewer(live.session.id, settings.review, ask)
    workspace = ls.client_capabilities.workspace
    edits = workspace.workspace_edit if workspace is not None else None
    if edits is not None and edits.change_annotation_support is not None:
        return Reviewer(live.session.id, settings.review, None)
    return None


def editor_language(ls: AgentServer) -> EditorLanguage:
    """The editor as the language tools' source: their LSP requests become
    `agent/languageFeature`, withdrawn with `$/cancelRequest` if the run stops waiting."""

    async def ask(method: str, params: dict[str, Any]) -> Any:
        msg_id = f"lang-{uuid.uuid4().hex[:12]}"
        wire = {"method": method, "params": params}  # p.LanguageFeatureParams
        request = asyncio.ensure_future(ls.request(p.LANGUAGE_FEATURE, wire, msg_id))
        try:
            return await asyncio.shield(request)
        except asyncio.CancelledError:  # a cancelled run, or the source's time limit
            if not request.done():
                request.cancel()
                ls.notify("$/cancelRequest", {"id": msg_id})
            raise

    return EditorLanguage(ask)


def editor_workspace(ls: AgentServer, cwd: Path | None = None) -> EditorWorkspace:
    """The editor's workspace: the roots bound it; a session's cwd (inside them) is where
    relative paths and commands start."""
    save = ls.agent_caps.save_documents and ls.config.editor.save_before_shell
    encoding = ls.workspace.position_encoding
    try:
        DiskWorkspace(ls.roots(), cwd=cwd)
    except WorkspaceError:
        cwd = None  # a stored session of a folder no longer open: start at the root
    return EditorWorkspace(
        ls.roots(),
        lambda: list(ls.workspace.text_documents.values()),
        lambda params: _apply_edit(ls, params),
        save=(lambda uris: _save(ls, uris)) if save else None,
        position_encoding=str(getattr(encoding, "value", encoding) or "utf-16"),
        on_late=ls.show_error,
        cwd=cwd,
    )


async def _apply_edit(ls: AgentServer, params: dict[str, Any]) -> tuple[bool, str | None]:
    msg_id = f"edit-{uuid.uuid4().hex[:12]}"
    timeout = ls.config.editor.apply_edit_timeout_s
    request = asyncio.ensure_future(ls.request("workspace/applyEdit", params, msg_id))
    try:
        await asyncio.wait({request}, timeout=timeout)
    except asyncio.CancelledError:
        request.cancel()
        ls.notify("$/cancelRequest", {"id": msg_id})
        raise
    if not request.done():  # an editor that never answers must not hang the prompt
        ls.notify("$/cancelRequest", {"id": msg_id})
        late: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        request.add_done_callback(lambda r: late.set_result(_applied(r)[0]))
        raise EditTimeout(timeout, late)
    return _applied(request)


def _applied(request: asyncio.Future[Any]) -> tuple[bool, str | None]:
    if request.cancelled():
        return False, "cancelled"
    error = request.exception()
    if isinstance(error, JsonRpcException):  # an error, or an answer that could not be read
        return False, f"the editor answered with an error: {error.message}"
    if error is not None:
        raise error
    result = request.result()
    if not isinstance(result, dict):
        return False, "no answer"
    return result.get("applied") is True, result.get("failureReason")


async def _save(ls: AgentServer, uris: list[str]) -> list[str]:
    msg_id = f"save-{uuid.uuid4().hex[:12]}"
    raw = await ls.request(p.SAVE_DOCUMENTS, p.SaveDocumentsParams(uris=uris).dump(), msg_id)
    try:
        return p.SaveDocumentsResult.model_validate(raw).saved
    except ValueError:
        return []


async def _new_token(ls: AgentServer) -> str | None:
    """A server-created progress token, when the client can show progress."""
    window = ls.client_capabilities.window
    if window is None or not window.work_done_progress:
        return None
    token = f"lsp-agent-{uuid.uuid4().hex[:12]}"
    try:
        await ls.request("window/workDoneProgress/create", {"token": token}, f"wdp-{token}")
    except Exception:  # the client refused: run without a spinner
        return None
    return token


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 80 else line[:79] + "…"


async def replay(ls: AgentServer, live: LiveSession) -> int:
    """Send a stored session's history as updates; returns how many were sent."""
    sink = UpdateSink(live.session.id, ls.notify, live.seq, Progress(None, None))
    start = live.seq.next
    streamed: set[str] = set()
    for event in await (await service(ls)).history(live.session.id):
        for update in to_updates(event, streamed):
            sink.send_update(update)
    sink.send_update(p.SessionInfoUpdate(title=live.session.info.title or None))
    return live.seq.next - start


async def undo_turns(ls: AgentServer, args: p.UndoParams) -> dict[str, Any]:
    live = await find(ls, args.session_id)
    try:
        result = await (await service(ls)).undo(
            live, editor_workspace(ls, live.session.root), args.turns, args.force
        )
    except SessionBusy as e:
        raise JsonRpcException(message=str(e), code=SESSION_BUSY) from None
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
