"""A small MCP server written with the same SDK, for the tests (stdio, or HTTP with --http PORT).

Tools: echo (read-only), env (shows a variable), slow (waits until cancelled, records it),
crash (the process exits), wipe (destructive), fail (a tool error), picture (an image)."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ImageContent, ToolAnnotations

server = MCPServer("demo")
MARKS = Path(os.environ.get("DEMO_MARKS", os.getcwd()))


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    """Say the text back, with this process's id and working directory."""
    return f"echo: {text} (pid {os.getpid()}, cwd {os.getcwd()})"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def env(name: str) -> str:
    """The value of one environment variable, or <unset>."""
    return os.environ.get(name, "<unset>")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def slow() -> str:
    """Wait until cancelled."""
    (MARKS / "slow-started").write_text("1")
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        (MARKS / "slow-cancelled").write_text("1")
        raise
    return "done"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def crash() -> str:
    """Exit the process at once (the client should restart it once)."""
    (MARKS / f"crash-{os.getpid()}").write_text("1")
    os._exit(3)


@server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
def wipe(target: str) -> str:
    """Pretend to delete the target (destructive)."""
    (MARKS / "wiped").write_text(target)
    return f"wiped {target}"


@server.tool()
def fail() -> str:
    """Always fails."""
    raise ValueError("this tool always fails")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def picture() -> list[object]:
    """A tiny PNG and a caption."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 30).decode()
    return ["a caption", ImageContent(type="image", data=png, mime_type="image/png")]


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
