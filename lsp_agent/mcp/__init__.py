"""The MCP client: the user's MCP servers' tools as `mcp__<server>__<tool>`."""

from lsp_agent.mcp.manager import McpManager

__all__ = ["McpManager"]
