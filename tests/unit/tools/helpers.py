"""Helpers shared by the tool tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsp_agent.tools.base import Tool, ToolContext, ToolResult

MakeCtx = Callable[..., ToolContext]


async def run(tool: Tool[Any], ctx: ToolContext, **args: Any) -> ToolResult:
    """Run a tool as the engine would: arguments validated by its model first."""
    return await tool.run(tool.args_model.model_validate(args), ctx)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
