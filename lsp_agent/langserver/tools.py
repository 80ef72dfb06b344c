"""The language-server tools (issue 13), bound to a session's `LangServers`.

Each is declared once like the other tools; they are offered only when a server exists.
Edits (rename, code actions) go through the workspace's write path like edit_file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, Field

from lsp_agent.agent.events import Diff
from lsp_agent.langserver.languages import ServerDied, language_of
from lsp_agent.langserver.source import LanguageSource, LanguageSources
from lsp_agent.langserver.text import apply_edits, bounded, find_column, format_diag, introduced
from lsp_agent.lazy_import import lazy_module
from lsp_agent.sandbox.protected import is_protected
from lsp_agent.tools.base import Tool, ToolContext, ToolError, ToolResult, ToolSet, tool
from lsp_agent.tools.files import workspace_errors
from lsp_agent.tools.text import unified_diff
from lsp_agent.workspace import Document

if TYPE_CHECKING:
    from lsprotocol import types as t
else:
    t = lazy_module("lsprotocol.types")  # imported when a server is first used

PATH_HELP = "Relative to the workspace root, or absolute inside the workspace."
LINE_HELP = "1-based line where the symbol is (a line or two off is tolerated)."
SYMBOL_HELP = "The symbol's name as written on that line; else the line's first name."
CHECKED = ("edit_file", "write_file")  # rename and apply_code_action check themselves


class AtArgs(BaseModel):
    path: str = Field(description=f"The file. {PATH_HELP}")
    line: int = Field(ge=1, description=LINE_HELP)
    symbol: str | None = Field(None, description=SYMBOL_HELP)


class SymbolsArgs(BaseModel):
    path: str = Field(description=f"The file to outline. {PATH_HELP}")


class QueryArgs(BaseModel):
    query: str = Field(min_length=1, description="A symbol name or part of one.")


class RenameArgs(BaseModel):
    path: str = Field(description=f"A file where the symbol occurs. {PATH_HELP}")
    line: int = Field(ge=1, description=LINE_HELP)
    symbol: str = Field(min_length=1, description="The symbol's current name.")
    new_name: str = Field(min_length=1, description="Its new name.")


class LineArgs(BaseModel):
    path: str = Field(description=f"The file. {PATH_HELP}")
    line: int = Field(ge=1, description="1-based line to get fixes and refactors for.")


class ActionArgs(BaseModel):
    # the file is asked too: permission rules judge an edit by its path
    path: str = Field(description=f"The file code_actions was asked about. {PATH_HELP}")
    id: str = Field(description="An id that code_actions listed, e.g. '2'.")


class DiagnosticsArgs(BaseModel):
    paths: list[str] = Field(default_factory=list, description="Files; empty: files seen so far.")


def uri_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


class Lsp:
    """What the tools share: the language sources (the daemon's servers or the editor),
    plus document sync and edit application."""

    def __init__(self, servers: LanguageSources) -> None:
        self.servers = servers
        self.plans: dict[str, list[tuple[Document, str]]] = {}  # tool_call_id -> planned edit

    async def open(
        self, ctx: ToolContext, raw: str, capability: str | None
    ) -> tuple[Path, list[str], list[LanguageSource]]:
        with workspace_errors():
            path = ctx.workspace.resolve(raw)
            doc = await ctx.workspace.read(path)
        if not doc.exists:
            raise ToolError(f"{ctx.workspace.display(path)} does not exist.")
        servers = await self.sync(path, doc.text)
        usable = [s for s in servers if capability is None or s.has(capability)]
        if not usable:
            raise ToolError(f"No language server answers this for {ctx.workspace.display(path)}.")
        return path, doc.text.split("\n"), usable

    async def sync(self, path: Path, text: str) -> list[LanguageSource]:
        language = language_of(path) or ""
        servers = list(await self.servers.for_path(path))
        for s in servers:
            s.sync(path, text, language)
        return servers

    async def position(self, ctx: ToolContext, args: Any, capability: str) -> Any:
        path, lines, servers = await self.open(ctx, args.path, capability)
        found = find_column(lines, args.line, args.symbol)
        if found is None:
            what = f"'{args.symbol}'" if args.symbol else "a name"
            raise ToolError(f"No {what} on or near line {args.line} of {args.path}.")
        doc = t.TextDocumentIdentifier(uri=path.as_uri())
        return servers[0], doc, t.Position(line=found[0], character=found[1])

    async def where(self, ctx: ToolContext, locations: list[Any]) -> list[str]:
        """`path:line:col  text`, grouped by file, workspace files first."""
        by_file: dict[Path, list[Any]] = {}
        for loc in locations:
            uri = getattr(loc, "uri", None) or getattr(loc, "target_uri", None)
            rng = getattr(loc, "range", None) or getattr(loc, "target_selection_range", None)
            if uri and rng:
                by_file.setdefault(uri_path(uri), []).append(rng)
        rows = []
        for path, ranges in sorted(by_file.items(), key=lambda kv: not self.inside(ctx, kv[0])):
            lines = await self.lines(ctx, path)
            shown = ctx.workspace.display(path) if self.inside(ctx, path) else str(path)
            for r in sorted(ranges, key=lambda r: (r.start.line, r.start.character)):
                text = lines[r.start.line].strip() if r.start.line < len(lines) else ""
                rows.append(f"{shown}:{r.start.line + 1}:{r.start.character + 1}  {text}")
        return rows

    def inside(self, ctx: ToolContext, path: Path) -> bool:
        return any(path.is_relative_to(r) for r in ctx.workspace.roots)

    async def lines(self, ctx: ToolContext, path: Path) -> list[str]:
        if not self.inside(ctx, path):  # only the workspace is read for the model
            return []
        try:
            return (await ctx.workspace.read(path)).text.split("\n")
        except Exception:
            return []

    async def plan(
        self, ctx: ToolContext, edit: t.WorkspaceEdit, asked: str | None = None
    ) -> list[tuple[Document, str]]:
        """The edit's new text per file. `asked` is the path the tool call named: the
        permission gate judged that one; any other file must not be a protected path."""
        per_file: dict[str, list[Any]] = {}
        for uri, edits in (edit.changes or {}).items():
            per_file.setdefault(uri, []).extend(edits)
        for change in edit.document_changes or []:
            if not isinstance(change, t.TextDocumentEdit):
                raise ToolError("The server's edit creates, renames or deletes files: not done.")
            per_file.setdefault(change.text_document.uri, []).extend(change.edits)
        given = None
        if asked is not None:
            with workspace_errors():
                given = ctx.workspace.resolve(asked)
        # every file passes write_file's path rules (inside a root, symlinks resolved)
        # before any is written: a server's edit that reaches outside changes nothing
        out = []
        for uri, edits in per_file.items():
            if urlparse(uri).scheme != "file":
                raise ToolError(f"The server's edit changes {uri}, which is not a file: not done.")
            with workspace_errors():
                path = ctx.workspace.resolve(str(uri_path(uri)))
                doc = await ctx.workspace.read(path)
            if path != given and _protected(ctx, path):
                shown = ctx.workspace.display(path)
                raise ToolError(
                    f"The server's edit also changes {shown}, a protected path that needs the "
                    "user's own approval: not done. Edit that file with edit_file."
                )
            if not doc.exists:
                shown = ctx.workspace.display(path)
                raise ToolError(
                    f"The server's edit changes {shown}, which does not exist: not done."
                )
            new = apply_edits(doc.text, edits)
            if new != doc.text:
                out.append((doc, new))
        return out

    def diff(self, ctx: ToolContext, plan: list[tuple[Document, str]]) -> Diff | None:
        if not plan:
            return None
        doc, new = plan[0]
        unified = "".join(unified_diff(d.text, n, ctx.workspace.display(d.path)) for d, n in plan)
        return Diff(path=str(doc.path), old_text=doc.text, new_text=new, unified=unified)

    async def write(
        self, ctx: ToolContext, plan: list[tuple[Document, str]], name: str
    ) -> ToolResult:
        paths = [d.path for d, _ in plan]
        before = await self.snapshot(ctx, paths)
        notes: list[str] = []  # a review's account of each file, when one was asked
        landed: list[tuple[Document, str]] = []
        for doc, new in plan:
            label = f"{name} {ctx.workspace.display(doc.path)}"
            try:
                with workspace_errors():
                    written = await ctx.workspace.write(doc, new, label=label)
            except ToolError as e:
                if not e.denied:
                    raise
                notes.append(str(e))  # rejected in review: the other files go on
                continue
            if written is not None:
                notes.append(f"{ctx.workspace.display(doc.path)}: {written.note}")
                new = written.text
            landed.append((doc, new))
        if not landed:
            raise ToolError("\n".join(notes), denied=True)
        plan = landed
        paths = [d.path for d, _ in plan]
        shown = ", ".join(ctx.workspace.display(p) for p in paths)
        summary = f"Changed {len(paths)} file(s): {shown}."
        if notes:
            summary += "\n" + "\n".join(notes)
        summary += await self.check(ctx, paths, before)
        diffs = [
            Diff(
                path=str(d.path),
                old_text=d.text,
                new_text=n,
                unified=unified_diff(d.text, n, ctx.workspace.display(d.path)),
            )
            for d, n in plan
        ]
        return ToolResult(
            summary, diff=self.diff(ctx, plan), edited=paths, diffs=diffs if len(plan) > 1 else []
        )

    # --- check after every edit ------------------------------------------------------

    async def snapshot(self, ctx: ToolContext, paths: list[Path]) -> dict[Path, list[Any]]:
        if not ctx.settings.langserver.check_after_edit:
            return {}
        out: dict[Path, list[Any]] = {}
        for path in paths:
            if language_of(path) is None:
                continue
            try:  # the check is a bonus: a source that fails it never fails the edit
                doc = await ctx.workspace.read(path)
                out[path] = await self.current(ctx, path, doc.text if doc.exists else "")
            except Exception:
                continue
        return out

    async def current(self, ctx: ToolContext, path: Path, text: str) -> list[Any]:
        cap = ctx.settings.langserver.diagnostics_wait_s
        language = language_of(path) or ""
        found: list[Any] = []
        for s in await self.servers.for_path(path):
            seen = s.published(path)
            changed = s.sync(path, text, language)
            found += await s.diagnostics(path, seen if changed else None, cap)
        return found

    async def check(self, ctx: ToolContext, paths: list[Path], before: dict[Path, Any]) -> str:
        rows = []
        for path in paths:
            if path not in before:
                continue
            try:
                doc = await ctx.workspace.read(path)
                after = await self.current(ctx, path, doc.text)
            except Exception:
                continue
            shown = ctx.workspace.display(path)
            rows += [format_diag(shown, d) for d in introduced(before[path], after)]
        if not rows:
            return ""
        return "\n\nThis edit introduced these problems:\n" + bounded(rows, 4000, 30)


def _protected(ctx: ToolContext, path: Path) -> bool:
    root = next((r for r in ctx.workspace.roots if path.is_relative_to(r)), None)
    return root is None or is_protected(path.relative_to(root).as_posix(), root)


def _with_restarts(lsp: Lsp, result: ToolResult) -> ToolResult:
    """The result, after a note of each server restarted since the last result."""
    notes = lsp.servers.take_restarts()
    if notes:
        result.output = "".join(f"Note: {n}.\n" for n in notes) + "\n" + result.output
    return result


def checked(base: Tool[Any], lsp: Lsp) -> Tool[Any]:
    """edit_file/write_file with the edit's new diagnostics appended to the result."""

    async def run(args: Any, ctx: ToolContext) -> ToolResult:
        try:
            path = ctx.workspace.resolve(args.path)
        except Exception:
            return await base.run(args, ctx)
        before = await lsp.snapshot(ctx, [path])
        result = await base.run(args, ctx)
        if result.edited and before:
            result.output += await lsp.check(ctx, result.edited, before)
        return _with_restarts(lsp, result)

    return dataclasses.replace(base, run=run)


def restarting(base: Tool[Any], lsp: Lsp) -> Tool[Any]:
    """A tool run again, once, when its language server died under it (the server is started
    again on that use); the result says that the server was restarted."""

    async def run(args: Any, ctx: ToolContext) -> ToolResult:
        try:
            result = await base.run(args, ctx)
        except ServerDied:
            try:
                result = await base.run(args, ctx)
            except ServerDied as e:
                raise ToolError(f"The {e}; try again.") from e
        return _with_restarts(lsp, result)

    return dataclasses.replace(base, run=run)


def with_tools(lsp: Lsp, base: ToolSet) -> ToolSet:
    from lsp_agent.langserver.features import make_tools

    wrapped = [checked(x, lsp) if x.name in CHECKED else x for x in base]
    return ToolSet([*wrapped, *(restarting(x, lsp) for x in make_tools(lsp))])


__all__ = ["Lsp", "tool", "with_tools"]
