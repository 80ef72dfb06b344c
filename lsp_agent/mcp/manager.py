"""A session's MCP servers: started lazily on the first run, kept across prompts, closed
with the session. A server that fails to start is reported once and left out."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsp_agent.config import McpServer, McpSettings
from lsp_agent.mcp.env import secrets_of
from lsp_agent.tools.base import ToolSet

if TYPE_CHECKING:  # the MCP SDK costs ~0.3 s to import: only once a server starts
    from lsp_agent.mcp.connection import Connection
    from lsp_agent.mcp.tools import McpTool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerStatus:
    name: str
    transport: str
    status: str  # running, failed, stopped, disabled
    error: str | None
    tools: list[str]


class McpManager:
    def __init__(
        self,
        settings: McpSettings,
        cwd: Path,
        extra: Mapping[str, McpServer] | None = None,
    ) -> None:
        servers = dict(settings.servers) | dict(extra or {})
        self._cwd = cwd
        self._timeout = settings.timeout_s
        self._servers = servers
        self._conns: dict[str, Connection] = {}
        self._started = False
        self._reported: set[str] = set()
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return any(s.enabled for s in self._servers.values())

    def secrets(self, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
        env = os.environ if environ is None else environ
        return tuple(v for s in self._servers.values() for v in secrets_of(s, env))

    async def start(self) -> None:
        """Start every enabled server at once (first call only)."""
        async with self._lock:
            if self._started:
                return
            self._started = True
            from lsp_agent.mcp.connection import Connection

            for name, server in self._servers.items():
                if not server.enabled:
                    continue
                if not (server.command or server.url):
                    conn = Connection(name, server, self._cwd, self._timeout)
                    conn.error = "neither command nor url is set"
                    self._conns[name] = conn
                    continue
                self._conns[name] = Connection(name, server, self._cwd, self._timeout)
            await asyncio.gather(*(c.start() for c in self._conns.values() if c.error is None))

    def tools(self) -> list[McpTool]:
        """Every server's tools; of two whose names meet once spelled as function names
        (`a.b` and `a_b`), the first is kept and the second logged, never silently swapped."""
        from lsp_agent.mcp.tools import make_tool

        out: dict[str, McpTool] = {}
        for conn in self._conns.values():
            if conn.error is not None and not conn.tools:
                continue
            for remote in conn.tools:
                tool = make_tool(conn, remote)
                if tool.name in out:
                    log.warning(
                        "MCP tool %r of %s skipped: %s is taken", remote.name, conn.name, tool.name
                    )
                    continue
                out[tool.name] = tool
        return list(out.values())

    def new_failures(self) -> list[tuple[str, str]]:
        """Servers that failed since the last call: each is reported once."""
        out = []
        for name, conn in self._conns.items():
            if conn.error and name not in self._reported:
                self._reported.add(name)
                out.append((name, conn.error))
        return out

    def status(self) -> list[ServerStatus]:
        rows = []
        for name, server in self._servers.items():
            conn = self._conns.get(name)
            transport = "http" if server.url else "stdio"
            if not server.enabled:
                rows.append(ServerStatus(name, transport, "disabled", None, []))
            elif conn is None:
                rows.append(ServerStatus(name, transport, "not started", None, []))
            else:
                tools = [t.name for t in conn.tools]
                rows.append(ServerStatus(name, transport, conn.status, conn.error, tools))
        return rows

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._conns.values()), return_exceptions=True)
        self._conns.clear()
        self._started = False


def acp_servers(servers: Iterable[Any]) -> dict[str, McpServer]:
    """ACP `session/new` mcpServers (stdio: command/args/env list; http: url/headers list)."""
    out: dict[str, McpServer] = {}
    for s in servers:
        data = s.model_dump() if hasattr(s, "model_dump") else dict(s)
        if data.get("type") not in (None, "http"):
            raise ValueError(f"{data.get('name')}: {data['type']} servers are not supported")
        if data.get("url"):
            out[data["name"]] = McpServer(url=data["url"], headers=_pairs(data, "headers"))
        else:
            out[data["name"]] = McpServer(
                command=data.get("command"),
                args=list(data.get("args") or []),
                env=_pairs(data, "env"),
            )
    return out


async def with_mcp(manager: McpManager | None, base: ToolSet) -> tuple[ToolSet, list[str]]:
    """The run's tools with the MCP servers' (started now if not yet), and the notes on
    servers that failed since the last run (each said once)."""
    if manager is None or not manager.configured:
        return base, []
    await manager.start()
    notes = [
        f"MCP server '{name}' is unavailable ({error}); the run goes on without it"
        for name, error in manager.new_failures()
    ]
    for note in notes:
        log.warning("%s", note)
    return ToolSet([*base, *manager.tools()]), notes


def _pairs(data: Mapping[str, Any], key: str) -> dict[str, str]:
    return {str(e["name"]): str(e["value"]) for e in data.get(key) or []}
