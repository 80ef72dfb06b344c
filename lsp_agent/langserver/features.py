"""The language-server tools' declarations: definition, references, hover, symbols,
workspace_symbols, rename, code_actions, apply_code_action and diagnostics."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsp_agent.agent.events import Diff
from lsp_agent.langserver.text import bounded, format_diag
from lsp_agent.langserver.tools import (
    ActionArgs,
    AtArgs,
    DiagnosticsArgs,
    LineArgs,
    Lsp,
    QueryArgs,
    RenameArgs,
    SymbolsArgs,
    uri_path,
)
from lsp_agent.lazy_import import lazy_module
from lsp_agent.tools.base import Tool, ToolContext, ToolError, ToolResult, tool
from lsp_agent.tools.files import workspace_errors

if TYPE_CHECKING:
    from lsprotocol import types as t
else:
    t = lazy_module("lsprotocol.types")  # imported when a server is first used

RENAME_RETRIES = 2
RENAME_SETTLE_S = 2.0  # per file and try: how long a server may take to analyse it


@functools.cache
def kinds() -> dict[int, str]:
    return {k.value: k.name for k in t.SymbolKind}


def _limit(ctx: ToolContext) -> int:
    return ctx.settings.tools.output_limit


def _as_list(result: Any) -> list[Any]:
    if result is None:
        return []
    return list(result) if isinstance(result, list | tuple) else [result]


def make_tools(lsp: Lsp) -> list[Tool[Any]]:
    @tool(kind="read", title=lambda a: f"Definition of {a.symbol or a.path}")
    async def definition(args: AtArgs, ctx: ToolContext) -> ToolResult:
        """Where a symbol is defined, from the language server (meaning, not text)."""
        server, doc, pos = await lsp.position(ctx, args, "definition_provider")
        params = t.DefinitionParams(text_document=doc, position=pos)
        rows = await lsp.where(
            ctx, _as_list(await server.request(t.TEXT_DOCUMENT_DEFINITION, params))
        )
        return ToolResult(bounded(rows, _limit(ctx)) or "No definition found.")

    @tool(kind="read", title=lambda a: f"References to {a.symbol or a.path}")
    async def references(args: AtArgs, ctx: ToolContext) -> ToolResult:
        """Every reference to a symbol, grouped by file with each line's text. Far fewer
        and more precise hits than grep."""
        server, doc, pos = await lsp.position(ctx, args, "references_provider")
        params = t.ReferenceParams(
            text_document=doc,
            position=pos,
            context=t.ReferenceContext(include_declaration=True),
        )
        found = _as_list(await server.request(t.TEXT_DOCUMENT_REFERENCES, params))
        rows = await lsp.where(ctx, found)
        head = f"{len(rows)} reference(s):\n" if rows else ""
        return ToolResult(head + bounded(rows, _limit(ctx)) if rows else "No references found.")

    @tool(kind="read", title=lambda a: f"Hover {a.symbol or a.path}")
    async def hover(args: AtArgs, ctx: ToolContext) -> ToolResult:
        """A symbol's type, signature and docs."""
        server, doc, pos = await lsp.position(ctx, args, "hover_provider")
        params = t.HoverParams(text_document=doc, position=pos)
        result = await server.request(t.TEXT_DOCUMENT_HOVER, params)
        if result is None:
            return ToolResult("Nothing known about this symbol.")
        contents = result.contents
        parts = contents if isinstance(contents, list) else [contents]
        text = "\n".join(p if isinstance(p, str) else p.value for p in parts)
        return ToolResult(bounded(text.strip().split("\n"), _limit(ctx)))

    @tool(kind="read", title=lambda a: f"Symbols of {a.path}")
    async def symbols(args: SymbolsArgs, ctx: ToolContext) -> ToolResult:
        """The outline of a file: its classes, functions, variables with their lines."""
        path, _lines, servers = await lsp.open(ctx, args.path, "document_symbol_provider")
        params = t.DocumentSymbolParams(text_document=t.TextDocumentIdentifier(uri=path.as_uri()))
        found = _as_list(await servers[0].request(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL, params))
        rows: list[str] = []

        def walk(items: list[Any], depth: int) -> None:
            for s in items:
                rng = getattr(s, "selection_range", None) or s.location.range
                kind = kinds().get(s.kind, "Symbol")
                rows.append(f"{'  ' * depth}{s.name}  {kind}  line {rng.start.line + 1}")
                walk(list(getattr(s, "children", None) or []), depth + 1)

        walk(found, 0)
        return ToolResult(bounded(rows, _limit(ctx)) or "No symbols.")

    @tool(kind="read", title=lambda a: f"Symbols matching {a.query}")
    async def workspace_symbols(args: QueryArgs, ctx: ToolContext) -> ToolResult:
        """Find classes, functions and variables by name across the workspace."""
        servers = await lsp.servers.any_running("workspace_symbol_provider")
        if not servers:
            raise ToolError("No language server offers workspace symbol search.")
        params = t.WorkspaceSymbolParams(query=args.query)
        found = _as_list(await servers[0].request(t.WORKSPACE_SYMBOL, params))
        rows = []
        for s in found:
            loc = s.location
            path = uri_path(loc.uri)
            if not lsp.inside(ctx, path):
                continue
            line = loc.range.start.line + 1 if hasattr(loc, "range") else 1
            rows.append(
                f"{ctx.workspace.display(path)}:{line}  {s.name}  {kinds().get(s.kind, '')}"
            )
        return ToolResult(bounded(rows, _limit(ctx)) or "No symbols match.")

    async def plan_rename(args: RenameArgs, ctx: ToolContext) -> list[Any]:
        if ctx.tool_call_id in lsp.plans:
            return lsp.plans[ctx.tool_call_id]
        server, doc, pos = await lsp.position(ctx, args, "rename_provider")
        params = t.RenameParams(text_document=doc, position=pos, new_name=args.new_name)
        edit = await server.request(t.TEXT_DOCUMENT_RENAME, params)
        if edit is None:
            raise ToolError(f"The language server cannot rename '{args.symbol}' there.")
        missing = await unrenamed(ctx, server, doc, pos, edit)
        for _ in range(RENAME_RETRIES):
            if not missing:
                break
            # Still analysing a file it just opened (basedpyright does this): wait for
            # its diagnostics of those files, the sign the analysis is done, and ask again.
            for path in missing:
                await server.diagnostics(path, server.published(path), RENAME_SETTLE_S)
            edit = await server.request(t.TEXT_DOCUMENT_RENAME, params) or edit
            missing = await unrenamed(ctx, server, doc, pos, edit)
        if missing:
            files = ", ".join(sorted(ctx.workspace.display(p) for p in missing))
            raise ToolError(
                f"The language server's rename leaves references to '{args.symbol}' in {files} "
                "unchanged (it may still be indexing); nothing was changed. Try again, or edit "
                "those files too."
            )
        lsp.plans[ctx.tool_call_id] = plan = await lsp.plan(ctx, edit, args.path)
        return plan

    async def unrenamed(
        ctx: ToolContext, server: Any, doc: Any, pos: Any, edit: t.WorkspaceEdit
    ) -> set[Path]:
        """Workspace files with references to the symbol that the rename's edit leaves
        alone: a partial rename breaks the code, so it is never applied."""
        if not server.has("references_provider"):
            return set()
        context = t.ReferenceContext(include_declaration=True)
        found = await server.request(
            t.TEXT_DOCUMENT_REFERENCES,
            t.ReferenceParams(text_document=doc, position=pos, context=context),
        )
        referenced = {uri_path(r.uri) for r in found or []}
        edited = {uri_path(uri) for uri in edit.changes or {}}
        edited |= {
            uri_path(c.text_document.uri)
            for c in edit.document_changes or []
            if isinstance(c, t.TextDocumentEdit)
        }
        return {p for p in referenced - edited if lsp.inside(ctx, p)}

    async def preview_rename(args: RenameArgs, ctx: ToolContext) -> Diff | None:
        return lsp.diff(ctx, await plan_rename(args, ctx))

    @tool(kind="edit", preview=preview_rename, title=lambda a: f"Rename {a.symbol} → {a.new_name}")
    async def rename(args: RenameArgs, ctx: ToolContext) -> ToolResult:
        """Rename a symbol everywhere it is used, through the language server (every file,
        in one step)."""
        plan = await plan_rename(args, ctx)
        lsp.plans.pop(ctx.tool_call_id, None)
        if not plan:
            return ToolResult("Nothing to change.")
        return await lsp.write(ctx, plan, "rename")

    @tool(kind="read", title=lambda a: f"Code actions {a.path}:{a.line}")
    async def code_actions(args: LineArgs, ctx: ToolContext) -> ToolResult:
        """The quick fixes and refactors the language servers offer on a line; apply one
        with apply_code_action(id)."""
        path, lines, servers = await lsp.open(ctx, args.path, "code_action_provider")
        if args.line > len(lines):
            raise ToolError(f"{args.path} has {len(lines)} lines.")
        n = args.line - 1
        rng = t.Range(
            start=t.Position(line=n, character=0), end=t.Position(line=n + 1, character=0)
        )
        rows = []
        lsp.servers.actions.clear()
        for s in servers:
            diags = [
                d
                for d in await s.diagnostics(path, None, 0.5)
                if d.range.start.line <= n <= d.range.end.line
            ]
            params = t.CodeActionParams(
                text_document=t.TextDocumentIdentifier(uri=path.as_uri()),
                range=rng,
                context=t.CodeActionContext(diagnostics=diags),
            )
            for action in _as_list(await s.request(t.TEXT_DOCUMENT_CODE_ACTION, params)):
                key = str(len(lsp.servers.actions) + 1)
                lsp.servers.actions[key] = (s, action, path)
                kind = getattr(action, "kind", None) or "command"
                rows.append(f"{key}  {action.title}  ({kind}, {s.name})")
        return ToolResult(bounded(rows, _limit(ctx)) or "No code actions on this line.")

    async def plan_action(args: ActionArgs, ctx: ToolContext) -> list[Any]:
        if ctx.tool_call_id in lsp.plans:
            return lsp.plans[ctx.tool_call_id]
        found = lsp.servers.actions.get(args.id)
        if found is None:
            raise ToolError(
                f"No code action {args.id!r}: call code_actions first, then use its ids."
            )
        server, action, where = found
        with workspace_errors():
            if ctx.workspace.resolve(args.path) != where:
                raise ToolError(f"Code action {args.id!r} is for {ctx.workspace.display(where)}.")
        if (
            isinstance(action, t.CodeAction)
            and action.edit is None
            and server.has("code_action_provider")
        ):
            resolved = await server.request(t.CODE_ACTION_RESOLVE, action)
            action = resolved or action
        edit = getattr(action, "edit", None)
        command = action.command if isinstance(action, t.CodeAction) else action
        if edit is None and isinstance(command, t.Command):
            server.take_edits()
            params = t.ExecuteCommandParams(command=command.command, arguments=command.arguments)
            await server.request(t.WORKSPACE_EXECUTE_COMMAND, params)
            edits = server.take_edits()
            edit = edits[0] if edits else None
        plan = await lsp.plan(ctx, edit, args.path) if edit is not None else []
        lsp.plans[ctx.tool_call_id] = plan
        return plan

    async def preview_action(args: ActionArgs, ctx: ToolContext) -> Diff | None:
        return lsp.diff(ctx, await plan_action(args, ctx))

    @tool(kind="edit", preview=preview_action, title=lambda a: f"Apply code action {a.id}")
    async def apply_code_action(args: ActionArgs, ctx: ToolContext) -> ToolResult:
        """Apply one of the fixes code_actions listed, by its id."""
        plan = await plan_action(args, ctx)
        lsp.plans.pop(ctx.tool_call_id, None)
        if not plan:
            return ToolResult("The action changes nothing.")
        return await lsp.write(ctx, plan, "apply_code_action")

    @tool(kind="read", title=lambda a: "Diagnostics")
    async def diagnostics(args: DiagnosticsArgs, ctx: ToolContext) -> ToolResult:
        """Current errors and warnings of files, from the language servers."""
        rows = []
        for raw in args.paths:
            path, _lines, _servers = await lsp.open(ctx, raw, None)
            shown = ctx.workspace.display(path)
            with_text = await lsp.current(ctx, path, "\n".join(_lines))
            rows += [format_diag(shown, d) for d in with_text]
        if not args.paths:
            for uri, items in (await lsp.servers.known_diagnostics()).items():
                path = uri_path(uri)
                if lsp.inside(ctx, path):
                    rows += [format_diag(ctx.workspace.display(path), d) for d in items]
        return ToolResult(bounded(rows, _limit(ctx)) or "No problems found.")

    return [
        definition,
        references,
        hover,
        symbols,
        workspace_symbols,
        rename,
        code_actions,
        apply_code_action,
        diagnostics,
    ]
