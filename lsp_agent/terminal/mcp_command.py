"""`lsp-agent mcp list [--json]`: the configured MCP servers, whether they start, their tools."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lsp_agent.cli import EXIT_ERROR, EXIT_OK
from lsp_agent.config import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    mcp = sub.add_parser("mcp", help="the configured MCP servers")
    actions = mcp.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="each server's status and tools (starts them)")
    listing.add_argument("--json", action="store_true", help="one JSON object per server")
    return listing


async def main(args: argparse.Namespace, workspace: Path, settings: Settings) -> int:
    from lsp_agent.mcp.manager import McpManager
    from lsp_agent.mcp.tools import tool_name  # the MCP SDK: not for the other commands

    manager = McpManager(settings.mcp, workspace)
    try:
        await manager.start()
        rows = manager.status()
    finally:
        await manager.close()
    if not rows:
        print("no MCP servers configured: add [mcp.servers.NAME] to .lsp-agent.toml")
        return EXIT_OK
    for row in rows:
        tools = [tool_name(row.name, t) for t in row.tools]
        if args.json:
            entry = {"name": row.name, "transport": row.transport, "status": row.status}
            print(json.dumps(entry | {"error": row.error, "tools": tools}))
            continue
        print(
            f"{row.name} ({row.transport}): {row.status}" + (f": {row.error}" if row.error else "")
        )
        for tool in tools:
            print(f"  {tool}")
    return EXIT_ERROR if any(r.status == "failed" for r in rows) else EXIT_OK
