"""Initialize, settings, progress cancel, shutdown, and exiting when the editor dies."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from lsp_agent.server import protocol as p
from lsp_agent.server.server import AgentServer
from lsp_agent.server.settings import SECTION
from lsp_agent.server.uris import NotAFileUri, uri_to_path

if TYPE_CHECKING:
    from lsp_agent.agent.service import SessionService

log = logging.getLogger(__name__)
PARENT_POLL_S = 2.0


def register(server: AgentServer) -> None:
    @server.feature(t.INITIALIZE)
    async def initialize(ls: AgentServer, params: t.InitializeParams) -> None:
        experimental = params.capabilities.experimental
        raw = experimental.get("lspAgent") if isinstance(experimental, dict) else None
        ls.agent_caps = p.ClientAgentCapabilities.model_validate(
            raw if isinstance(raw, dict) else {}
        )
        root = _root(params)
        if root is not None:
            ls.settings.root = root
        ls.settings.set_initialization_options(params.initialization_options)
        ls.service_opening = ls.spawn(_open_service(ls))  # once initialized (or needed)
        if params.process_id:
            ls.spawn(_exit_with_parent(ls, params.process_id))

    @server.feature(t.INITIALIZED)
    async def initialized(ls: AgentServer, params: t.InitializedParams) -> None:
        from lsp_agent.server.watcher import watch_workspace

        ls.engine_wanted.set()
        ls.spawn(watch_workspace(ls.root, ls.settings.reload))
        ls.spawn(_warm_up())
        ls.spawn(_report_sandbox(ls))
        await _pull_configuration(ls)
        _preload_local_model(ls)

    @server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: AgentServer, params: t.DidChangeConfigurationParams
    ) -> None:
        if not await _pull_configuration(ls):  # clients without workspace/configuration push
            _apply_client_settings(ls, params.settings)
        _preload_local_model(ls)

    @server.feature(t.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: AgentServer, params: t.WorkDoneProgressCancelParams) -> None:
        sessions = ls.service.sessions if ls.service is not None else {}
        for session_id, live in sessions.items():
            if live.progress_token is not None and live.progress_token == params.token:
                ls.cancel(session_id)

    @server.feature(t.SHUTDOWN)
    async def shutdown(ls: AgentServer, params: Any) -> None:
        from lsp_agent.tools.processes import kill_all

        await ls.close()
        await kill_all()


def _preload_local_model(ls: AgentServer) -> None:
    if ls.config.model.provider == "local":  # else the local modules stay unimported
        from lsp_agent.server import local_model

        local_model.preload(ls)


async def _report_sandbox(ls: AgentServer) -> None:
    """Which sandbox confines shell commands, in the log (and to the user when none does)."""
    from lsp_agent import sandbox

    state = await sandbox.status_async(ls.config.shell.sandbox)
    log.info("%s", state.describe())
    if state.backend is None:
        ls.show_error(f"lsp-agent: {state.describe()}. Run `lsp-agent doctor` for the fix.")


async def _warm_up() -> None:
    """Load the engine now, off the loop, so the first prompt does not wait for it; then
    freeze what startup allocated: the collector need not walk those objects again, which
    keeps its pauses (and the daemon's latency spikes) short."""
    await asyncio.to_thread(importlib.import_module, "lsp_agent.server.operations")
    gc.collect()
    gc.freeze()


async def _open_service(ls: AgentServer) -> SessionService:
    """Load the engine (off the loop) and open its store: the one place the session
    service is created. It waits for `initialized` (or a request that needs it)."""
    await ls.engine_wanted.wait()
    await asyncio.to_thread(importlib.import_module, "lsp_agent.agent.service")
    from lsp_agent.agent.service import SessionService

    service = SessionService(ls.state_dir)
    if await service.open(_secrets(ls)) is None:
        ls.show_error(f"lsp-agent: sessions are unavailable: {service.store_error}")
    return service


async def _pull_configuration(ls: AgentServer) -> bool:
    """Ask for the `lspAgent` section; False when the client cannot answer."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return False
    ls.config_pulls += 1
    pull = ls.config_pulls
    try:
        result = await ls.request(
            "workspace/configuration",
            {"items": [{"section": SECTION}]},
            f"config-{uuid.uuid4().hex[:12]}",  # pulls overlap (initialized + didChange)
        )
    except Exception as e:  # a client bug must not take the server down
        log.warning("workspace/configuration failed: %s", e)
        return False
    if pull != ls.config_pulls:
        return True  # a newer pull is on its way: its answer wins
    if isinstance(result, list) and result and isinstance(result[0], dict):
        _apply_client_settings(ls, result[0])
    return True


def _apply_client_settings(ls: AgentServer, settings: Any) -> None:
    if ls.settings.set_client_settings(settings):
        log.info("applied the client's lspAgent settings")
    else:
        log.info("the client's lspAgent settings are invalid: the previous ones stay in force")


async def _exit_with_parent(ls: AgentServer, pid: int) -> None:
    """The editor died without saying goodbye: stop runs, kill tool processes, exit."""
    await _parent_gone(pid)
    log.warning("the editor (pid %d) is gone: exiting", pid)
    from lsp_agent.tools.processes import kill_all

    try:
        await asyncio.wait_for(ls.close(), timeout=5)
    finally:
        await kill_all()
        os._exit(0)


async def _parent_gone(pid: int) -> None:
    """Wait for a process to end: a pidfd becomes readable then (Linux); else poll."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        while _alive(pid):  # noqa: ASYNC110 - no event exists for another process's death
            await asyncio.sleep(PARENT_POLL_S)
        return
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not gone.done():
            gone.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await gone
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _root(params: t.InitializeParams) -> Any:
    uris = [f.uri for f in params.workspace_folders or []]
    if params.root_uri:
        uris.append(params.root_uri)
    for uri in uris:
        try:
            return uri_to_path(uri)
        except NotAFileUri:
            continue
    return None


def _secrets(ls: AgentServer) -> list[str]:
    key = ls.config.api_key()
    return [key] if key else []
