"""The daemon's side of the local provider: one llama.cpp server shared by every session,
loaded in the background with `$/progress`, reported when it crashes, stopped with the
daemon."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from lsp_agent.config import Settings
from lsp_agent.local.defaults import NotConfigured, pick_default
from lsp_agent.local.provider import LocalProvider, check_installed
from lsp_agent.local.server import LocalModelError
from lsp_agent.server.server import AgentServer
from lsp_agent.server.sink import Progress

log = logging.getLogger(__name__)
ModelProblem = (NotConfigured, LocalModelError)


class LoadProgress:
    """The model's load as `$/progress` on a token the server creates (if the client can
    show progress); the calls may come before the token exists, so they queue."""

    def __init__(self, ls: AgentServer) -> None:
        self._ls = ls
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def begin(self, title: str, message: str) -> None:
        log.info("%s: %s", title, message)
        self._ls.spawn(self._send_all())
        self._queue.put_nowait(("begin", {"title": title, "message": message}))

    def report(self, message: str) -> None:
        self._queue.put_nowait(("report", {"message": message}))

    def end(self, message: str) -> None:
        log.info("%s", message)
        self._queue.put_nowait(("end", {"message": message}))

    async def _send_all(self) -> None:
        progress = Progress(self._ls.notify, await self._token())
        while True:
            kind, value = await self._queue.get()
            progress(kind, **value)
            if kind == "end":
                return

    async def _token(self) -> str | None:
        window = self._ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"lsp-agent-model-{uuid.uuid4().hex[:12]}"
        try:
            await self._ls.request("window/workDoneProgress/create", {"token": token}, token)
        except Exception:  # the client refused: load without a spinner
            return None
        return token


def provider(ls: AgentServer) -> LocalProvider:
    if ls.local is None:
        from lsp_agent.store.db import state_dir

        ls.local = LocalProvider(state_dir(ls.state_dir) / "logs", on_crash=ls.show_error)
    return ls.local


async def run_settings(ls: AgentServer) -> Settings:
    """The settings a run uses; for the local provider, pointing at the shared server
    (loaded now if it is not yet). Raises NotConfigured or LocalModelError."""
    settings, notice = await pick_default(ls.config)
    if notice:
        ls.show_once(f"lsp-agent: {notice}")
    if settings.model.provider != "local":
        return settings
    check_installed()
    local = provider(ls)
    model = await local.model_settings(settings, LoadProgress(ls))
    for line in local.notices:
        ls.show_once(f"lsp-agent: {line}")
    return settings.model_copy(update={"model": model})


def preload(ls: AgentServer) -> None:
    """Start loading a configured local model now, so the first prompt need not wait."""
    if ls.config.model.provider == "local":
        ls.spawn(_preload(ls))


async def _preload(ls: AgentServer) -> None:
    try:
        await run_settings(ls)
    except ModelProblem as e:
        ls.show_error(f"lsp-agent: {e}")
