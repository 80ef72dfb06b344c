"""One prompt in the language server: the editor-aware run environment, progress, and the
three ways to cancel (agent/session/cancel, $/cancelRequest, workDoneProgress/cancel)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pygls.exceptions import JsonRpcException

from lsp_agent.agent.events import RunFinished, UsageInfo
from lsp_agent.agent.session import RunEnv, prompt
from lsp_agent.server import local_model
from lsp_agent.server import protocol as p
from lsp_agent.server.diagnostics import diagnostics_tool, with_feedback
from lsp_agent.server.editor_workspace import EditorWorkspace
from lsp_agent.server.gate import EditorGate
from lsp_agent.server.server import AgentServer, LiveSession
from lsp_agent.server.sink import Progress, UpdateSink
from lsp_agent.store import AsyncSessionStore
from lsp_agent.tools import default_tools
from lsp_agent.tools.base import ToolSet


class SessionBusy(Exception):
    pass


async def run_prompt(
    ls: AgentServer, live: LiveSession, text: str, token: Any = None
) -> RunFinished:
    """Run a prompt to its end. If the awaiting request is cancelled ($/cancelRequest),
    the run is cancelled too, and CancelledError propagates once it has stopped cleanly."""
    store = await ls.require_store()  # open by now (the session came from it): no suspension
    if live.running:
        raise SessionBusy(
            f"session {live.session.id} is already running a prompt: wait for it, or cancel "
            "it with agent/session/cancel"
        )
    # The session is taken before the first await, so a second prompt sent at the same
    # time sees it busy; and the three ways to cancel all reach the task from now on.
    live.progress_token = token
    live.task = task = asyncio.ensure_future(_run(ls, live, store, text, token))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not _cancelling():  # the run was cancelled, not this request: a normal stop
            return _cancelled_run()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise


async def _run(
    ls: AgentServer, live: LiveSession, store: AsyncSessionStore, text: str, token: Any
) -> RunFinished:
    progress = Progress(None, None)
    outcome = "failed"
    try:
        if token is None:
            token = live.progress_token = await _new_token(ls)
        progress = Progress(ls.notify, token)
        progress("begin", title="Agent", message=_first_line(text), cancellable=True)
        sink = UpdateSink(live.session.id, ls.notify, live.seq, progress)
        try:
            env = await _environment(ls, live, sink)
        except local_model.ModelProblem as e:  # no model to run with: say what to do
            ls.show_error(f"lsp-agent: {e}")
            return RunFinished(
                stop_reason="model_error",
                usage=UsageInfo(),
                turns=0,
                tool_calls=0,
                duration_s=0,
                error=str(e),
            )
        title = live.session.info.title
        try:
            return await prompt(store, live.session, text, env)
        finally:
            if live.session.info.title != title:  # the first prompt named the session
                sink.send_update(p.SessionInfoUpdate(title=live.session.info.title))
    except asyncio.CancelledError:
        # Cancelled before the engine's loop took over (which reports a cancel itself).
        _uncancel()
        outcome = "cancelled"
        return _cancelled_run()
    finally:
        progress("end", message=outcome)  # unless the engine's RunFinished ended it
        live.progress_token = None


def _cancelled_run() -> RunFinished:
    return RunFinished(
        stop_reason="cancelled", usage=UsageInfo(), turns=0, tool_calls=0, duration_s=0
    )


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def editor_workspace(ls: AgentServer) -> EditorWorkspace:
    save = ls.agent_caps.save_documents and ls.config.editor.save_before_shell
    encoding = ls.workspace.position_encoding
    return EditorWorkspace(
        ls.roots(),
        lambda: list(ls.workspace.text_documents.values()),
        lambda params: _apply_edit(ls, params),
        save=(lambda uris: _save(ls, uris)) if save else None,
        position_encoding=str(getattr(encoding, "value", encoding) or "utf-16"),
    )


async def _environment(ls: AgentServer, live: LiveSession, sink: UpdateSink) -> RunEnv:
    settings = await local_model.run_settings(ls)
    caps = ls.agent_caps
    workspace = editor_workspace(ls)
    tools = list(default_tools())
    if caps.get_diagnostics:

        async def get(uris: list[str] | None) -> Any:
            msg_id = f"diag-{uuid.uuid4().hex[:12]}"
            params = p.GetDiagnosticsParams(uris=uris).dump()
            return await ls.request(p.GET_DIAGNOSTICS, params, msg_id)

        tools = [with_feedback(t, get) if t.kind == "edit" else t for t in tools]
        tools.append(diagnostics_tool(get))
    # Without the agent capability, window/showMessageRequest asks; a client that cannot
    # answer it makes the gate fail, and a failed gate denies.
    gate = EditorGate(
        live.session.id,
        ls.request,
        ls.notify,
        agent_protocol=caps.request_permission,
    )
    return RunEnv(
        settings=settings,
        model=ls.model(settings),
        workspace=workspace,
        sink=sink,
        gate=gate,
        tools=ToolSet(tools),
        window=await ls.window(settings),
    )


async def _apply_edit(ls: AgentServer, params: dict[str, Any]) -> tuple[bool, str | None]:
    msg_id = f"edit-{uuid.uuid4().hex[:12]}"
    try:
        result = await ls.request("workspace/applyEdit", params, msg_id)
    except JsonRpcException as e:  # an error, or an answer that could not be read
        return False, f"the editor answered with an error: {e.message}"
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
