"""One MCP server's connection, held open by its own task (the SDK's anyio scopes must be
entered and left in one task), restarted once if it dies."""

from __future__ import annotations

import asyncio
import contextlib
import os
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx2
from mcp import ClientSession, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED

from lsp_agent.config import McpServer
from lsp_agent.mcp.env import expand

# What a stdio server gets besides its declared env: enough to find programs and a home.
_BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SYSTEMROOT")


class Connection:
    def __init__(self, name: str, server: McpServer, cwd: Path, timeout_s: float) -> None:
        self.name = name
        self.server = server
        self.cwd = cwd
        self.timeout_s = timeout_s
        self.session: ClientSession | None = None
        self.tools: list[types.Tool] = []
        self.error: str | None = None
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @property
    def status(self) -> str:
        if self.session is not None:
            return "running"
        return "failed" if self.error else "stopped"

    async def start(self) -> None:
        """Connect and list the tools; on failure `error` says why (never raises)."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._hold(ready), name=f"mcp-{self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(ready), self.timeout_s)
        except TimeoutError:
            self.error = f"did not start within {self.timeout_s:g}s"
            await self.close()
        except Exception as e:
            self.error = _describe(e)
            await self.close()

    async def _hold(self, ready: asyncio.Future[None]) -> None:
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport(stack))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                self.tools = (await session.list_tools()).tools
                self.session, self.error = session, None
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as e:
            if not ready.done() and isinstance(e, Exception):
                ready.set_exception(e)
            elif not ready.done():  # cancelled (closed while starting): nobody awaits it
                ready.cancel()
            elif not self._stop.is_set():
                self.error = f"stopped: {_describe(e)}"
        finally:
            self.session = None

    def _transport(self, stack: AsyncExitStack) -> Any:
        env = os.environ
        if self.server.url:
            headers = {k: expand(v, env) for k, v in self.server.headers.items()}
            client = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
            stack.push_async_callback(client.aclose)
            return streamable_http_client(self.server.url, http_client=client)
        assert self.server.command is not None
        clean = {k: env[k] for k in _BASE_ENV if k in env}
        params = StdioServerParameters(
            command=self.server.command,
            args=self.server.args,
            env=clean | {k: expand(v, env) for k, v in self.server.env.items()},
            cwd=self.cwd,
        )
        return stdio_client(params)

    async def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call a tool. A server that died is restarted once: before the call if it is
        already gone, else after, and the model is told to call again (the call may have
        had effects, so it is not repeated blindly)."""
        if self.session is None and self.restarts == 0 and self.error is not None:
            await self._restart()
        if self.session is None:
            raise ConnectionError(f"MCP server '{self.name}' is not running: {self.error}")
        try:
            return await self.session.call_tool(tool, arguments)
        except MCPError as e:
            if e.error.code != CONNECTION_CLOSED:
                raise
        self.error = "the server exited"
        if self.restarts > 0:
            await self.close()
            raise ConnectionError(
                f"MCP server '{self.name}' exited during the call and was already restarted "
                "once; it is not restarted again"
            )
        await self._restart()
        if self.session is None:
            raise ConnectionError(
                f"MCP server '{self.name}' exited and restarting failed: {self.error}"
            )
        raise ConnectionError(
            f"MCP server '{self.name}' exited during the call; it was restarted. The call did "
            "not complete: call again if it is safe to."
        )

    async def _restart(self) -> None:
        self.restarts += 1
        await self.close()
        await self.start()

    async def close(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None and not task.done() and self.session is None:
            # Still starting: it cannot see the stop, so end it now (its transport's
            # cleanup ends the server process), bounded like a stop.
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 5)
        elif task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 5)
            except BaseException:
                task.cancel()
        self.session = None


def _describe(e: BaseException) -> str:
    if isinstance(e, BaseExceptionGroup) and e.exceptions:
        return _describe(e.exceptions[0])
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
