"""The session service: what every front end (LSP, ACP) does with sessions, typed, with no
protocol in it.

It owns the store, the live sessions with their `seq` sequencers, and the model clients.
A front end supplies, per prompt, the parts only it knows (workspace view, event sink,
permission gate, tools, settings) and maps these typed errors to its own wire errors.
Cancelling is owned here: `cancel` stops a running prompt, and `prompt` turns that into a
`cancelled` result; a front end only maps its cancel messages to `cancel`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from lsp_agent.agent.edit_scope import EditScope, ScopedWorkspace, scoped_tools
from lsp_agent.agent.events import Event, EventSink, RunFinished, UsageInfo
from lsp_agent.agent.session import (
    RunEnv,
    Session,
    context_window,
    load_session,
    new_session,
)
from lsp_agent.agent.session import prompt as run_session
from lsp_agent.agent.undo import UndoResult, undo
from lsp_agent.config import McpServer, PermissionMode, ReviewMode, Settings
from lsp_agent.langserver import LangServers, LanguageSources, with_langservers
from lsp_agent.mcp.manager import McpManager, with_mcp
from lsp_agent.model.client import ModelClient
from lsp_agent.permissions import PermissionGate
from lsp_agent.store import (
    AsyncSessionStore,
    SessionInfo,
    SessionNotFoundError,
    StoreError,
    default_store_path,
)
from lsp_agent.tools.base import ToolSet
from lsp_agent.workspace import Workspace

log = logging.getLogger(__name__)

MAX_LIVE = 32  # sessions kept in memory; more are loaded from the store when used


class ServiceError(Exception):
    """A request the service refuses; the message says what to do."""


class SessionBusy(ServiceError):
    pass


class UnknownSession(ServiceError):
    pass


class SessionsUnavailable(ServiceError):
    pass


class Sequencer:
    """The per-session `seq`: +1 per update, across prompts, with no gaps."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        seq, self.next = self.next, self.next + 1
        return seq


@dataclass
class SessionConfig:
    """Per-session choices a client changes mid-session (None: the settings decide)."""

    mode: PermissionMode | None = None
    model: str | None = None
    review: ReviewMode | None = None

    def stored(self) -> dict[str, str]:
        pairs = (("mode", self.mode), ("model", self.model), ("review", self.review))
        return {k: v for k, v in pairs if v is not None}

    @classmethod
    def restore(cls, stored: dict[str, Any]) -> SessionConfig:
        """Stored choices, each kept only if still valid (a bad row never breaks a load)."""
        mode, model, review = stored.get("mode"), stored.get("model"), stored.get("review")
        return cls(
            mode=mode if mode in get_args(PermissionMode) else None,
            model=model if isinstance(model, str) and model else None,
            review=review if review in get_args(ReviewMode) else None,
        )

    def apply(self, settings: Settings) -> Settings:
        if self.mode is not None:
            permissions = settings.permissions.model_copy(update={"mode": self.mode})
            settings = settings.model_copy(update={"permissions": permissions})
        if self.model is not None:
            model = settings.model.model_copy(update={"name": self.model})
            settings = settings.model_copy(update={"model": model})
        if self.review is not None:
            editor = settings.editor.model_copy(update={"review": self.review})
            settings = settings.model_copy(update={"editor": editor})
        return settings


@dataclass
class LiveSession:
    session: Session
    seq: Sequencer = field(default_factory=Sequencer)
    task: asyncio.Task[Any] | None = None
    progress_token: Any = None  # the LSP front end's $/progress token of the running prompt
    config: SessionConfig = field(default_factory=SessionConfig)
    extras: dict[str, Any] = field(default_factory=dict)  # a front end's own per-session data
    mcp_servers: dict[str, McpServer] = field(default_factory=dict)  # ACP's session/new ones
    mcp: McpManager | None = None  # started on the first prompt, closed with the session
    langservers: LanguageSources | None = None  # made on first use, closed with the session

    @property
    def id(self) -> str:
        return self.session.id

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


@dataclass
class RunParts:
    """What a front end supplies for one prompt; the service adds the model client."""

    settings: Settings
    workspace: Workspace
    sink: EventSink
    gate: PermissionGate | None
    tools: ToolSet
    # where the language tools get answers (the editor's, in the LSP front end); None:
    # language servers the daemon starts itself. Taken by the session's first prompt.
    language: LanguageSources | None = None
    scope: EditScope | None = None  # an inline edit: only these lines of one file may change


PartsFactory = Callable[[LiveSession], Awaitable[RunParts]]


def cancelled_run() -> RunFinished:
    return RunFinished(
        stop_reason="cancelled", usage=UsageInfo(), turns=0, tool_calls=0, duration_s=0
    )


class SessionService:
    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir
        self.store: AsyncSessionStore | None = None
        self.store_error = "the session store is not open yet"
        self.sessions: dict[str, LiveSession] = {}  # most recently used last
        self._sequencers: dict[str, Sequencer] = {}  # outlive evicted sessions: seq goes on
        self._models: dict[str, ModelClient] = {}
        self._windows: dict[str, int] = {}

    # --- the store -----------------------------------------------------------------

    async def open(self, secrets: Iterable[str] = ()) -> AsyncSessionStore | None:
        """Open the store; on failure sessions are unavailable, with the reason kept."""
        try:
            self.store = await AsyncSessionStore.open(
                default_store_path(self.state_dir), secrets=list(secrets)
            )
        except StoreError as e:
            self.store_error = str(e)
        return self.store

    def require_store(self) -> AsyncSessionStore:
        if self.store is None:
            raise SessionsUnavailable(f"sessions are unavailable: {self.store_error}")
        return self.store

    # --- live sessions -------------------------------------------------------------

    def sequencer(self, session_id: str) -> Sequencer:
        return self._sequencers.setdefault(session_id, Sequencer())

    def keep(self, live: LiveSession) -> LiveSession:
        """Hold a session in memory, most recently used; idle ones beyond MAX_LIVE are
        dropped (the store has them), so a daemon that runs for weeks does not grow."""
        self.sessions.pop(live.session.id, None)
        self.sessions[live.session.id] = live
        idle = [sid for sid, other in self.sessions.items() if not other.running]
        for sid in idle[: max(0, len(self.sessions) - MAX_LIVE)]:
            del self.sessions[sid]
        return live

    async def create(self, root: Path, title: str = "") -> LiveSession:
        session = await new_session(self.require_store(), root, title)
        return self.keep(LiveSession(session, seq=self.sequencer(session.id)))

    async def find(self, session_id: str, *, reload: bool = False) -> LiveSession:
        """A live session, loaded from the store if this process has not seen it yet."""
        live = self.sessions.get(session_id)
        if live is not None and (not reload or live.running):
            return self.keep(live)
        try:
            session = await load_session(self.require_store(), session_id)
        except SessionNotFoundError:
            raise UnknownSession(f"no session {session_id!r}") from None
        fresh = LiveSession(session, seq=self.sequencer(session_id))
        if live is not None:  # reloaded: the client's choices stay
            fresh.config, fresh.extras = live.config, live.extras
        else:  # first seen by this process: the choices stored with the session
            fresh.config = SessionConfig.restore(await self.require_store().load_config(session_id))
        return self.keep(fresh)

    async def list_sessions(self, roots: Iterable[Path]) -> list[SessionInfo]:
        store = self.require_store()
        found: dict[str, SessionInfo] = {}
        for root in roots:  # a session's cwd may lie anywhere inside a root
            for info in await store.list_sessions(str(root), nested=True):
                found[info.id] = info
        return sorted(found.values(), key=lambda info: info.updated_at, reverse=True)

    async def history(self, session_id: str) -> list[Event]:
        """The stored events of a session, oldest first (for a client to replay)."""
        return [stored.event for stored in await self.require_store().load_events(session_id)]

    async def close_session(self, session_id: str) -> None:
        """Stop a session's prompt and forget it in memory (the store keeps it)."""
        live = self.sessions.pop(session_id, None)
        if live is not None and live.task is not None:
            live.task.cancel()
            await asyncio.gather(live.task, return_exceptions=True)
        if live is not None and live.mcp is not None:
            await live.mcp.close()
        if live is not None and live.langservers is not None:
            await live.langservers.close()

    async def delete(self, session_id: str) -> None:
        await self.find(session_id)  # an unknown id is an error, not a silent no-op
        await self.close_session(session_id)
        await self.require_store().delete_session(session_id)
        self._sequencers.pop(session_id, None)

    async def set_config(
        self,
        live: LiveSession,
        *,
        mode: PermissionMode | None = None,
        model: str | None = None,
        review: ReviewMode | None = None,
    ) -> SessionConfig:
        """Change a session's choices and store them, so a restarted process keeps them."""
        if mode is not None:
            live.config.mode = mode
        if model is not None:
            live.config.model = model
        if review is not None:
            live.config.review = review
        await self.require_store().save_config(live.id, live.config.stored())
        return live.config

    # --- prompts -----------------------------------------------------------------

    async def prompt(self, live: LiveSession, text: str, parts: PartsFactory) -> RunFinished:
        """Run a prompt (or a slash command) to its end. A `cancel` resolves it with
        `cancelled`; if instead the awaiting caller is cancelled, the run is cancelled too
        and CancelledError propagates once it has stopped cleanly."""
        store = self.require_store()
        if live.running:
            raise SessionBusy(
                f"session {live.id} is already running a prompt: wait for it, or cancel it"
            )
        # Taken before the first await: a second prompt sent at the same time sees it busy.
        live.task = task = asyncio.ensure_future(self._run(store, live, text, parts))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is None or current.cancelling() == 0:  # the run was cancelled
                return cancelled_run()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise

    async def _run(
        self, store: AsyncSessionStore, live: LiveSession, text: str, parts: PartsFactory
    ) -> RunFinished:
        try:
            env = await self.environment(live, await parts(live))
            return await run_session(store, live.session, text, env)
        except asyncio.CancelledError:  # before the engine's loop took over (it reports its own)
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            return cancelled_run()

    def cancel(self, session_id: str) -> bool:
        """Cancel a session's running prompt; False if none runs."""
        live = self.sessions.get(session_id)
        if live is None or not live.running:
            return False
        assert live.task is not None
        live.task.cancel()
        return True

    async def compact(self, live: LiveSession, parts: PartsFactory) -> RunFinished:
        return await self.prompt(live, "/compact", parts)

    async def clear(self, live: LiveSession, parts: PartsFactory) -> RunFinished:
        return await self.prompt(live, "/clear", parts)

    async def undo(
        self, live: LiveSession, workspace: Workspace, turns: int = 1, force: bool = False
    ) -> UndoResult:
        if live.running:
            raise SessionBusy(f"session {live.id} is running a prompt: cancel it before undoing")
        return await undo(self.require_store(), live.session, workspace, turns, force)

    async def environment(self, live: LiveSession, parts: RunParts) -> RunEnv:
        settings = live.config.apply(parts.settings)
        if live.mcp is None:  # the servers of the session's first prompt, kept till it ends
            live.mcp = McpManager(settings.mcp, live.session.root, live.mcp_servers)
        tools, notes = await with_mcp(live.mcp, parts.tools)
        if live.langservers is None:
            live.langservers = parts.language
        if live.langservers is None:
            live.langservers = LangServers(
                settings.langserver.servers, settings.langserver, parts.workspace.roots
            )
        tools, ls_notes = with_langservers(live.langservers, tools)
        notes = [*notes, *ls_notes]
        workspace = parts.workspace
        if parts.scope is not None:  # after MCP and the language tools: they are scoped too
            workspace = ScopedWorkspace(workspace, parts.scope)
            tools, scope_notes = scoped_tools(tools)
            notes = [*notes, *scope_notes]
        return RunEnv(
            settings=settings,
            model=self.model(settings),
            workspace=workspace,
            sink=parts.sink,
            gate=parts.gate,
            tools=tools,
            window=await self.window(settings),
            notes=notes,
            secrets=live.mcp.secrets(),
        )

    # --- model clients -------------------------------------------------------------

    def model(self, settings: Settings) -> ModelClient:
        """One client (and connection pool) per model configuration, shared by sessions."""
        key = settings.model.model_dump_json() + (settings.api_key() or "")
        client = self._models.get(key)
        if client is None:
            client = self._models[key] = ModelClient(settings.model, settings.api_key())
        return client

    async def window(self, settings: Settings) -> int:
        key = settings.model.model_dump_json()
        if key not in self._windows:
            self._windows[key] = await context_window(settings, self.model(settings))
        return self._windows[key]

    async def models(self, settings: Settings) -> list[str]:
        """The server's `/models` (empty when it has none or cannot be reached)."""
        try:
            return await self.model(settings).list_models()
        except Exception as e:  # a listing is a convenience: never fail a session for it
            log.info("could not list the models: %s", e)
            return []

    async def close(self) -> None:
        tasks = [live.task for live in self.sessions.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        managers = [live.mcp for live in self.sessions.values() if live.mcp is not None]
        await asyncio.gather(*(m.close() for m in managers), return_exceptions=True)
        servers = [live.langservers for live in self.sessions.values() if live.langservers]
        await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)
        for client in self._models.values():
            await client.aclose()
        self._models.clear()
        if self.store is not None:
            await self.store.close()
            self.store = None
