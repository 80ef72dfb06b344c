"""An MCP server's tool as one of ours: `mcp__<server>__<tool>`, the server's own JSON
Schema, the permission kind from its annotations, results bounded like other output."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from mcp import types
from pydantic import BaseModel, ConfigDict

from lsp_agent.agent.events import ToolKind
from lsp_agent.mcp.connection import Connection
from lsp_agent.tools.base import Tool, ToolContext, ToolError, ToolResult


class McpArgs(BaseModel):
    """Any JSON object: the server validates its own arguments."""

    model_config = ConfigDict(extra="allow")


MAX_NAME = 64  # OpenAI's limit on function names


def tool_name(server: str, tool: str) -> str:
    """`mcp__<server>__<tool>` in the characters function names allow; a longer name is cut
    and ends with a hash of the whole, so two long names never meet in their first 64."""
    full = f"mcp__{server}__{tool}"
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", full)
    if len(clean) <= MAX_NAME:
        return clean
    digest = hashlib.sha256(full.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{clean[: MAX_NAME - 9]}_{digest}"


def kind_of(annotations: types.ToolAnnotations | None) -> ToolKind:
    """readOnlyHint -> read (allowed like our reads); else execute: asked per policy."""
    if annotations is not None and annotations.read_only_hint:
        return "read"
    return "execute"


def destructive(annotations: types.ToolAnnotations | None) -> bool:
    """MCP's default for a tool that is not read-only is destructive."""
    if annotations is None:
        return False
    return not annotations.read_only_hint and annotations.destructive_hint is True


@dataclass(frozen=True)
class McpTool(Tool[McpArgs]):
    schema: dict[str, Any] | None = None
    server: str = ""
    remote_name: str = ""
    is_destructive: bool = False

    @property
    def spec(self) -> dict[str, Any]:
        params = dict(self.schema or {"type": "object"})
        params.setdefault("properties", {})
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }

    def subject(self, args: McpArgs) -> str | None:
        return self.name


def make_tool(conn: Connection, remote: types.Tool) -> McpTool:
    async def run(args: McpArgs, ctx: ToolContext) -> ToolResult:
        try:
            result = await conn.call(remote.name, args.model_dump())
        except ConnectionError as e:
            raise ToolError(str(e)) from None
        except Exception as e:
            raise ToolError(f"MCP tool {remote.name} failed: {e}") from None
        text = render(result, ctx.settings.tools.output_limit)
        if result.is_error:
            raise ToolError(text or f"MCP tool {remote.name} failed")
        return ToolResult(output=text)

    annotations = remote.annotations
    return McpTool(
        name=tool_name(conn.name, remote.name),
        kind=kind_of(annotations),
        description=remote.description or f"{remote.name} (MCP server {conn.name})",
        args_model=McpArgs,
        run=run,
        title_of=lambda _a: f"{conn.name}: {remote.name}",
        schema=dict(remote.input_schema or {}),
        server=conn.name,
        remote_name=remote.name,
        is_destructive=destructive(annotations),
    )


def render(result: types.CallToolResult, limit: int) -> str:
    """Text as is, images and audio as a note, resources by URI (and their text)."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            size = len(block.data) * 3 // 4
            parts.append(f"[{block.type} {block.mime_type}, {size} bytes, not shown]")
        elif isinstance(block, types.EmbeddedResource):
            res = block.resource
            body = getattr(res, "text", None)
            parts.append(f"[resource {res.uri}]" + (f"\n{body}" if body else ""))
        elif isinstance(block, types.ResourceLink):
            parts.append(f"[resource link {block.uri}]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > limit:
        text = text[:limit] + f"\n[… {len(text) - limit} more characters cut]"
    return text
