"""The ACP agent: each method parses (the SDK did), delegates to the session service, and
answers with the SDK's models; service errors become JSON-RPC errors."""

from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError
from acp.schema import (
    AgentCapabilities,
    AuthEnvVar,
    AvailableCommandsUpdate,
    ClientCapabilities,
    CloseSessionResponse,
    ConfigOptionUpdate,
    CurrentModeUpdate,
    DeleteSessionResponse,
    EnvVarAuthMethod,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    ResumeSessionResponse,
    SessionCapabilities,
    SessionCloseCapabilities,
    SessionDeleteCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SessionResumeCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
)

from lsp_agent import __version__
from lsp_agent.acp import commands, options
from lsp_agent.acp.client_fs import ClientWorkspace, session_bounds
from lsp_agent.acp.content import invalid, prompt_text
from lsp_agent.acp.gate import permission_gate
from lsp_agent.acp.terminal import offers_terminal_output
from lsp_agent.acp.updates import AcpSink, Outbox, replay
from lsp_agent.agent.service import LiveSession, RunParts, ServiceError, SessionService
from lsp_agent.config import MODES, ConfigError, Settings, load_settings
from lsp_agent.mcp.manager import acp_servers
from lsp_agent.server import protocol as p
from lsp_agent.tools import default_tools
from lsp_agent.workspace import DiskWorkspace

log = logging.getLogger(__name__)
SESSION_BUSY = -32002


def failure(e: ServiceError | ConfigError) -> RequestError:
    from lsp_agent.agent.service import SessionBusy, UnknownSession

    if isinstance(e, UnknownSession):
        return invalid(f"sessionId: {e}")
    return RequestError(SESSION_BUSY if isinstance(e, SessionBusy) else -32603, str(e))


class AcpAgent:
    def __init__(self, service: SessionService) -> None:
        self.service = service
        self.conn: Any = None
        self.client = ClientCapabilities()

    @property
    def terminal_output(self) -> bool:
        """The client renders shell output it is fed (`_meta.terminal_output`, acp/terminal.py)."""
        return offers_terminal_output(self.client.field_meta)

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    # --- connection ----------------------------------------------------------------

    async def initialize(
        self, protocol_version: int, client_capabilities: ClientCapabilities | None = None, **_: Any
    ) -> InitializeResponse:
        self.client = client_capabilities or ClientCapabilities()
        settings = self.settings(Path.cwd())
        if self.service.store is None:
            from lsp_agent.terminal.commands import store_secrets

            if await self.service.open(store_secrets(settings)) is None:
                log.error("sessions are unavailable: %s", self.service.store_error)
        env = settings.model.api_key_env
        auth = []
        if settings.model.provider != "local" and not settings.api_key():
            auth.append(
                EnvVarAuthMethod(
                    type="env_var",
                    id=f"env:{env}",
                    name=f"Set {env}",
                    description=f"lsp-agent reads the model's API key from ${env}.",
                    vars=[AuthEnvVar(name=env, label="API key")],
                )
            )
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True),
                session_capabilities=SessionCapabilities(
                    list=SessionListCapabilities(),
                    resume=SessionResumeCapabilities(),
                    close=SessionCloseCapabilities(),
                    delete=SessionDeleteCapabilities(),
                ),
            ),
            auth_methods=auth,
            agent_info=Implementation(name="lsp-agent", title="lsp-agent", version=__version__),
        )

    async def authenticate(self, method_id: str, **_: Any) -> None:
        env = self.settings(Path.cwd()).model.api_key_env
        if method_id != f"env:{env}":
            raise invalid(f"methodId: unknown authentication method {method_id!r}")
        if not os.environ.get(env):
            raise RequestError.auth_required({"message": f"set {env} where the agent starts"})

    # --- sessions ------------------------------------------------------------------

    async def new_session(
        self, cwd: str, mcp_servers: list[Any] | None = None, **_: Any
    ) -> NewSessionResponse:
        live = await self._call(self.service.create(self._root(cwd)))
        # The client's MCP servers join the configured ones; they start with the first prompt.
        try:
            live.mcp_servers = acp_servers(mcp_servers or [])
        except (ValueError, KeyError, TypeError) as e:
            raise RequestError.invalid_params({"mcpServers": f"invalid MCP server: {e}"}) from None
        live.extras["mcp"] = [{"name": n, "status": "configured"} for n in live.mcp_servers]
        state = await self._state(live)
        self._outbox(live).send_update(
            AvailableCommandsUpdate(
                session_update="available_commands_update",
                available_commands=options.commands(live.session.root),
            )
        )
        return NewSessionResponse(
            session_id=live.id,
            modes=state[0],
            config_options=state[1],
            field_meta={"lspAgent": {"mcpServers": live.extras["mcp"]}},
        )

    async def load_session(self, cwd: str, session_id: str, **_: Any) -> LoadSessionResponse:
        live = await self._call(self.service.find(session_id, reload=True))
        live.extras["root"] = self._root(cwd)
        outbox = self._outbox(live)
        replay(
            outbox,
            await self._call(self.service.history(session_id)),
            terminal=self.terminal_output,
        )
        outbox.send(p.SessionInfoUpdate(title=live.session.info.title or None))
        await outbox.drain()  # the history comes before the answer
        modes, config = await self._state(live)
        self._announce(live)
        return LoadSessionResponse(modes=modes, config_options=config)

    async def resume_session(self, cwd: str, session_id: str, **_: Any) -> ResumeSessionResponse:
        live = await self._call(self.service.find(session_id))
        live.extras["root"] = self._root(cwd)
        modes, config = await self._state(live)
        self._announce(live)
        return ResumeSessionResponse(modes=modes, config_options=config)

    async def list_sessions(self, cwd: str | None = None, **_: Any) -> ListSessionsResponse:
        roots = [self._root(cwd)] if cwd else [Path.cwd()]
        found = await self._call(self.service.list_sessions(roots))
        return ListSessionsResponse(
            sessions=[
                SessionInfo(
                    session_id=info.id,
                    cwd=info.workspace,
                    title=info.title or None,
                    updated_at=_iso(info.updated_at),
                )
                for info in found
            ]
        )

    async def close_session(self, session_id: str, **_: Any) -> CloseSessionResponse:
        await self.service.close_session(session_id)
        return CloseSessionResponse()

    async def delete_session(self, session_id: str, **_: Any) -> DeleteSessionResponse:
        await self._call(self.service.delete(session_id))
        return DeleteSessionResponse()

    async def set_session_mode(
        self, mode_id: str, session_id: str, **_: Any
    ) -> SetSessionModeResponse:
        live = await self._call(self.service.find(session_id))
        await self._set_mode(live, mode_id)
        await self._config_changed(live)
        return SetSessionModeResponse()

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **_: Any
    ) -> SetSessionConfigOptionResponse:
        live = await self._call(self.service.find(session_id))
        if config_id == options.MODE_OPTION:
            await self._set_mode(live, str(value))
        elif config_id == options.MODEL_OPTION and isinstance(value, str) and value:
            await self._call(self.service.set_config(live, model=value))
        else:
            raise invalid(f"configId: no option {config_id!r} taking {value!r}")
        _, config = await self._config_changed(live)
        return SetSessionConfigOptionResponse(config_options=config)

    # --- prompts -------------------------------------------------------------------

    async def prompt(self, session_id: str, prompt: list[Any], **_: Any) -> PromptResponse:
        live = await self._call(self.service.find(session_id))
        roots, cwd = session_bounds(live.extras.get("root"), live.session.root)
        text, views = prompt_text(prompt, DiskWorkspace(roots, cwd=cwd))
        if not text.strip():
            raise invalid("prompt: the prompt is empty")
        outbox = self._outbox(live)
        answered = await commands.run(self, live, text.strip())
        if answered is not None:
            await outbox.drain()
            return answered
        return await self.run(live, text, views)

    async def run(
        self, live: LiveSession, text: str, views: dict[Path, str] | None = None
    ) -> PromptResponse:
        outbox, title = self._outbox(live), live.session.info.title
        store = self.service.store
        prior = (await store.session_usage(live.id)).cost_usd if store is not None else None

        roots, cwd = session_bounds(live.extras.get("root"), live.session.root)

        async def parts(live: LiveSession) -> RunParts:
            fs = self.client.fs
            return RunParts(
                settings=self.settings(live.session.root),
                workspace=ClientWorkspace(
                    roots,
                    self.conn,
                    live.id,
                    read=bool(fs and fs.read_text_file),
                    write=bool(fs and fs.write_text_file),
                    views=views,
                    cwd=cwd,
                ),
                sink=AcpSink(outbox, prior, terminal=self.terminal_output),
                gate=permission_gate(self.conn, live.id),
                tools=default_tools(),
            )

        finished = await self._call(self.service.prompt(live, text, parts))
        if live.session.info.title != title:
            outbox.send(p.SessionInfoUpdate(title=live.session.info.title))
        await outbox.drain()  # every update before the answer
        return commands.response(finished)

    async def cancel(self, session_id: str, **_: Any) -> None:
        self.service.cancel(session_id)

    # --- helpers -------------------------------------------------------------------

    def settings(self, root: Path) -> Settings:
        try:
            return load_settings(root)
        except ConfigError as e:
            raise RequestError(-32603, f"lsp-agent: {e}") from None

    def _root(self, cwd: str) -> Path:
        path = Path(cwd)
        if not path.is_absolute() or not path.is_dir():
            raise invalid(f"cwd: {cwd!r} is not an absolute path to a folder")
        return path.resolve()

    async def _call(self, job: Any) -> Any:
        try:
            return await job
        except (ServiceError, ConfigError) as e:
            raise failure(e) from None

    def _outbox(self, live: LiveSession) -> Outbox:
        outbox = live.extras.get("outbox")
        if outbox is None:
            outbox = live.extras["outbox"] = Outbox(self.conn, live.id, live.session.root)
        return outbox

    def _announce(self, live: LiveSession) -> None:
        self._outbox(live).send_update(
            AvailableCommandsUpdate(
                session_update="available_commands_update",
                available_commands=options.commands(live.session.root),
            )
        )

    async def _state(self, live: LiveSession) -> tuple[Any, list[Any]]:
        settings = live.config.apply(self.settings(live.session.root))
        if "models" not in live.extras:
            live.extras["models"] = await self.service.models(settings)
        return (
            options.modes(settings.permissions.mode),
            options.config_options(settings, live.extras["models"]),
        )

    async def _set_mode(self, live: LiveSession, value: str) -> None:
        mode = options.parse_mode(value)
        if mode is None:
            raise invalid(f"modeId: no mode {value!r} (one of {', '.join(MODES)})")
        await self._call(self.service.set_config(live, mode=mode))

    async def _config_changed(self, live: LiveSession) -> tuple[Any, list[Any]]:
        modes, config = await self._state(live)
        outbox = self._outbox(live)
        outbox.send_update(
            CurrentModeUpdate(
                session_update="current_mode_update", current_mode_id=modes.current_mode_id
            )
        )
        outbox.send_update(
            ConfigOptionUpdate(session_update="config_option_update", config_options=config)
        )
        await outbox.drain()  # other views of the session learn it before the answer
        return modes, config


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat()
