"""Diagnostics from every language server in the editor, through `agent/getDiagnostics`:
a `diagnostics` tool, and feedback on what an edit broke."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from lsp_agent.server import protocol as p
from lsp_agent.server.uris import NotAFileUri, path_to_uri, uri_to_path
from lsp_agent.tools.base import Tool, ToolContext, ToolError, ToolResult, tool

GetDiagnostics = Callable[[list[str] | None], Awaitable[Any]]
SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}
SETTLE_S = 0.6  # language servers re-check after an edit; give them a moment
SHOWN = 20


class DiagnosticsArgs(BaseModel):
    paths: list[str] | None = Field(
        None, description="Files to check; omit for every file the editor has problems for."
    )


async def fetch(get: GetDiagnostics, uris: list[str] | None) -> dict[str, list[p.Diagnostic]]:
    raw = await get(uris)
    try:
        result = p.GetDiagnosticsResult.model_validate(raw)
    except ValidationError as e:
        raise ToolError(f"The editor sent unusable diagnostics: {e.error_count()} errors") from None
    return {item.uri: item.diagnostics for item in result.items}


def describe(
    uri: str, diagnostics: list[p.Diagnostic], display: Callable[[Path], str]
) -> list[str]:
    try:
        name = display(uri_to_path(uri))
    except NotAFileUri:
        name = uri
    lines = []
    for d in diagnostics[:SHOWN]:
        where = f"{name}:{d.range.start.line + 1}:{d.range.start.character + 1}"
        source = (
            f" ({d.source}{' ' + str(d.code) if d.code is not None else ''})" if d.source else ""
        )
        lines.append(f"{where} {SEVERITY.get(d.severity or 1, 'error')}: {d.message}{source}")
    if len(diagnostics) > SHOWN:
        lines.append(f"… {len(diagnostics) - SHOWN} more in {name}")
    return lines


def diagnostics_tool(get: GetDiagnostics) -> Tool[Any]:
    @tool(
        kind="read", title=lambda a: "Diagnostics" + (f" {', '.join(a.paths)}" if a.paths else "")
    )
    async def diagnostics(args: DiagnosticsArgs, ctx: ToolContext) -> ToolResult:
        """Errors and warnings that the editor's language servers report (type checkers,
        linters, compilers), including for unsaved edits. Use it after editing to check
        your work."""
        uris = [path_to_uri(ctx.workspace.resolve(p)) for p in args.paths] if args.paths else None
        found = await fetch(get, uris)
        lines = [
            line for uri, ds in found.items() for line in describe(uri, ds, ctx.workspace.display)
        ]
        return ToolResult("\n".join(lines) if lines else "No problems reported.")

    return diagnostics


def with_feedback(edit_tool: Tool[Any], get: GetDiagnostics) -> Tool[Any]:
    """The same edit tool, whose result also says which problems the edit introduced."""

    async def run(args: Any, ctx: ToolContext) -> ToolResult:
        path = ctx.workspace.resolve(args.path)
        uri = path_to_uri(path)
        before = await _quietly(get, uri)
        result = await edit_tool.run(args, ctx)
        await asyncio.sleep(SETTLE_S)
        after = await _quietly(get, uri)
        if after is None:
            return result
        seen = {(d.message, d.severity) for d in (before or [])}
        new = [d for d in after if (d.message, d.severity) not in seen and (d.severity or 1) <= 2]
        if new:
            errors = sum(1 for d in new if (d.severity or 1) == 1)
            name = ctx.workspace.display(path)
            head = f"\n\n{len(new)} new problem(s) ({errors} error(s)) in {name}:"
            body = "\n".join(describe(uri, new, ctx.workspace.display))
            result = dataclasses.replace(result, output=f"{result.output}{head}\n{body}")
        return result

    return dataclasses.replace(edit_tool, run=run)


async def _quietly(get: GetDiagnostics, uri: str) -> list[p.Diagnostic] | None:
    """The diagnostics of one file, matched by path (clients spell URIs differently)."""
    try:
        found = await fetch(get, [uri])
    except Exception:  # feedback is a bonus: never fail the edit over it
        return None
    path = uri_to_path(uri)
    for key, diagnostics in found.items():
        try:
            if uri_to_path(key) == path:
                return diagnostics
        except NotAFileUri:
            continue
    return []
