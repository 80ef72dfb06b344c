"""File tools: read_file, list_dir, write_file and edit_file."""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from lsp_agent.agent.edit_scope import check_scope
from lsp_agent.agent.events import Diff
from lsp_agent.safe_text import show_name
from lsp_agent.tools.base import ToolContext, ToolError, ToolResult, tool
from lsp_agent.tools.paging import MAX_LINE_CHARS, disk_window
from lsp_agent.tools.text import (
    line_at,
    looks_line_numbered,
    near_match,
    number_lines,
    split_lines,
    unified_diff,
)
from lsp_agent.workspace import (
    Document,
    EditRejected,
    FileTooLarge,
    WorkspaceError,
)

DEFAULT_READ_LIMIT = 2000
LIST_LIMIT = 1000
_FOOTER_ROOM = 300  # characters kept free in the output budget for the closing note

PATH_HELP = "Relative to the working directory, or absolute inside the workspace."


@contextmanager
def workspace_errors() -> Iterator[None]:
    """Workspace failures become ToolErrors: their messages already tell the model what to do."""
    try:
        yield
    except WorkspaceError as e:  # StaleDocument included: it already says to read again
        raise ToolError(str(e), denied=isinstance(e, EditRejected)) from None


# --- read_file ------------------------------------------------------------------------


class ReadFileArgs(BaseModel):
    path: str = Field(description=f"The file to read. {PATH_HELP}")
    offset: int = Field(1, ge=1, description="1-based line number to start reading at.")
    limit: int = Field(DEFAULT_READ_LIMIT, ge=1, description="Maximum number of lines to read.")


def _read_title(a: ReadFileArgs) -> str:
    if a.offset == 1 and a.limit == DEFAULT_READ_LIMIT:
        return f"Read {a.path}"
    return f"Read {a.path} (lines {a.offset}-{a.offset + a.limit - 1})"


@tool(kind="read", title=_read_title)
async def read_file(args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
    """Read a text file from the workspace.

    Output is `cat -n` style: each line is prefixed by its 1-based number and a tab. The
    number prefix is not part of the file: leave it out when you quote text to edit_file.
    Reads up to 2000 lines from `offset`; very long lines are cut. When more lines remain,
    the output ends with a note giving the `offset` to continue from. Prefer reading whole
    files; use offset/limit for large ones, or grep to find the lines you need first.
    """
    ws = ctx.workspace
    with workspace_errors():
        path = ws.resolve(args.path)
        try:
            doc = await ws.read(path)
        except FileTooLarge as e:
            # Editors rarely hold such files, so page through the disk copy.
            window, more = await asyncio.to_thread(disk_window, e.path, args.offset, args.limit)
            # Lines come clipped already (with a note on how much), so _render keeps them whole.
            clipped = _render(window, args.offset, None, more, _budget(ctx), max_line=1 << 30)
            return ToolResult(clipped)
    if not doc.exists:
        raise ToolError(await _not_found(ctx, path))
    lines = split_lines(doc.text)
    if not lines:
        return ToolResult(f"({ws.display(path)} is empty.)")
    if args.offset > len(lines):
        raise ToolError(
            f"offset {args.offset} is past the end of {ws.display(path)}, which has "
            f"{len(lines)} lines."
        )
    window = lines[args.offset - 1 : args.offset - 1 + args.limit]
    more = args.offset - 1 + len(window) < len(lines)
    return ToolResult(_render(window, args.offset, len(lines), more, _budget(ctx)))


def _budget(ctx: ToolContext) -> int:
    return ctx.settings.tools.output_limit - _FOOTER_ROOM


def _render(
    window: list[str],
    first: int,
    total: int | None,
    more: bool,
    budget: int,
    max_line: int = MAX_LINE_CHARS,
) -> str:
    """Numbered lines that fit the budget, so the agent loop never cuts a file mid-way."""
    out: list[str] = []
    used = 0
    for entry in number_lines(window, first, max_line):
        if out and used + len(entry) + 1 > budget:
            break
        out.append(entry)
        used += len(entry) + 1
    last = first + len(out) - 1
    if len(out) < len(window) or more:
        of = f" of {total}" if total is not None else ""
        out.append(f"\n(Showing lines {first}-{last}{of}. Use offset={last + 1} to read more.)")
    return "\n".join(out)


async def _not_found(ctx: ToolContext, path: Path) -> str:
    ws = ctx.workspace
    message = f"File not found: {ws.display(path)}."
    try:
        names = [e.name for e in await ws.list_dir(path.parent)]
    except WorkspaceError:
        names = []
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.6)
    if close:
        message += " Did you mean: " + ", ".join(ws.display(path.parent / n) for n in close) + "?"
    return message + " Use glob to find files by name."


# --- list_dir ----------------------------------------------------------------------


class ListDirArgs(BaseModel):
    path: str = Field(".", description=f"The directory to list. {PATH_HELP}")


@tool(kind="read", title=lambda a: f"List {a.path}")
async def list_dir(args: ListDirArgs, ctx: ToolContext) -> ToolResult:
    """List a directory's entries, sorted by name; directories end with "/".

    Not recursive: use glob (e.g. pattern "src/**") to list a whole tree. A byte of a name
    that is not UTF-8 shows as `\\xHH` (e.g. `bad\\xff.txt`); pass the name back as shown.
    """
    ws = ctx.workspace
    with workspace_errors():
        path = ws.resolve(args.path)
        entries = await ws.list_dir(path)
    if not entries:
        return ToolResult(f"({ws.display(path)} is empty.)")
    names = [(show_name(e.name), e.is_dir) for e in entries[:LIST_LIMIT]]
    lines = [name + "/" if is_dir else name for name, is_dir in names]
    if len(entries) > LIST_LIMIT:
        lines.append(f"\n(Showing {LIST_LIMIT} of {len(entries)} entries; use glob to narrow.)")
    return ToolResult("\n".join(lines))


# --- write_file and edit_file ----------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    doc: Document  # what the change was computed against; the write checks it still holds
    new_text: str
    diff: Diff | None  # None: nothing changes
    summary: str


def _change(ctx: ToolContext, doc: Document, new_text: str, summary: str) -> _Change:
    with workspace_errors():  # an inline edit's range: refused before permission is asked
        check_scope(ctx.workspace, doc, new_text)
    diff = None
    if not doc.exists or new_text != doc.text:
        shown = ctx.workspace.display(doc.path)
        old = doc.text if doc.exists else None
        diff = Diff(
            path=str(doc.path),
            old_text=old,
            new_text=new_text,
            unified=unified_diff(old, new_text, shown),
        )
    return _Change(doc, new_text, diff, summary)


async def _load(ctx: ToolContext, raw_path: str) -> Document:
    with workspace_errors():
        return await ctx.workspace.read(ctx.workspace.resolve(raw_path))


async def _apply(ctx: ToolContext, change: _Change, tool_name: str) -> ToolResult:
    if change.diff is None:
        return ToolResult(change.summary)
    approved = ctx.approved
    if approved is not None and (approved.old_text, approved.new_text) != (
        change.diff.old_text,
        change.diff.new_text,
    ):
        # The file changed while permission was being asked: this is not the approved edit.
        raise ToolError(
            f"{ctx.workspace.display(change.doc.path)} changed while the user was deciding, so "
            "this is not the edit they approved. Read the file again and redo the edit."
        )
    label = f"{tool_name} {ctx.workspace.display(change.doc.path)}"
    with workspace_errors():
        written = await ctx.workspace.write(change.doc, change.new_text, label=label)
    if written is None:
        return ToolResult(change.summary, diff=change.diff, edited=[change.doc.path])
    if written.text == change.new_text:  # reviewed and accepted whole
        output = f"{change.summary}\n{written.note}"
        return ToolResult(output, diff=change.diff, edited=[change.doc.path])
    landed = _change(ctx, change.doc, written.text, written.note)
    return ToolResult(written.note, diff=landed.diff, edited=[change.doc.path])


class WriteFileArgs(BaseModel):
    path: str = Field(description=f"The file to create or overwrite. {PATH_HELP}")
    content: str = Field(description="The complete new content of the file.")


def _check_size(ctx: ToolContext, text: str, what: str) -> None:
    """Refuse huge content before anything copies it (diffs, snapshots, the store)."""
    cap_mb = ctx.settings.tools.max_write_mb
    if len(text) > cap_mb * 1_048_576:  # characters: a cheap lower bound of the bytes
        raise ToolError(
            f"{what} is {len(text) / 1_048_576:.1f} MB, over the {cap_mb:g} MB limit "
            "(setting tools.maxWriteMb). Write large generated files with a shell command, "
            "or split the content."
        )


async def _plan_write(args: WriteFileArgs, ctx: ToolContext) -> _Change:
    _check_size(ctx, args.content, "The content")
    doc = await _load(ctx, args.path)
    shown = ctx.workspace.display(doc.path)
    content = args.content
    if doc.eol == "\r\n" or "\r\n" not in doc.text:
        crlf = "\r\n" in content and content.count("\r\n") == content.count("\n")
        content = content.replace("\r\n", "\n")
        if crlf and not doc.exists:
            doc = dataclasses.replace(doc, eol="\r\n")  # a new file keeps the endings it was given
    count = len(split_lines(content))
    if not doc.exists:
        summary = f"Created {shown} ({count} lines)."
    elif content == doc.text:
        summary = f"{shown} already has this content; nothing changed."
    else:
        summary = f"Overwrote {shown} ({count} lines)."
    return _change(ctx, doc, content, summary)


async def _preview_write(args: WriteFileArgs, ctx: ToolContext) -> Diff | None:
    return (await _plan_write(args, ctx)).diff


@tool(kind="edit", preview=_preview_write, title=lambda a: f"Write {a.path}")
async def write_file(args: WriteFileArgs, ctx: ToolContext) -> ToolResult:
    """Create a file, or replace all of an existing file's content.

    Parent directories are created as needed. For changes to part of an existing file use
    edit_file instead: it is cheaper and cannot drop unrelated lines by accident.
    """
    return await _apply(ctx, await _plan_write(args, ctx), "write_file")


class EditFileArgs(BaseModel):
    path: str = Field(description=f"The file to edit. {PATH_HELP}")
    old_string: str = Field(
        description="The exact text to replace, including whitespace and indentation, "
        "without read_file's line-number prefixes. It must occur exactly once unless "
        "replace_all is true. Empty only to create a new (or fill an empty) file."
    )
    new_string: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(False, description="Replace every occurrence of old_string.")


async def _plan_edit(args: EditFileArgs, ctx: ToolContext) -> _Change:
    _check_size(ctx, args.new_string, "new_string")
    doc = await _load(ctx, args.path)
    shown = ctx.workspace.display(doc.path)
    old, new = args.old_string, args.new_string
    if "\r\n" not in doc.text:  # the text is "\n"-normalized, so match the model's text to it
        old, new = old.replace("\r\n", "\n"), new.replace("\r\n", "\n")
    if old == new:
        raise ToolError("old_string and new_string are the same; nothing would change.")
    if not doc.exists:
        if old:
            raise ToolError(
                f"File not found: {shown}. To create it, use write_file (or edit_file with "
                "an empty old_string)."
            )
        return _change(ctx, doc, new, f"Created {shown} ({len(split_lines(new))} lines).")
    if not old:
        if doc.text:
            raise ToolError(
                f"old_string is empty but {shown} is not. Give the exact text to replace, or "
                "use write_file to replace the whole file."
            )
        return _change(ctx, doc, new, f"Wrote {len(split_lines(new))} lines to empty {shown}.")
    starts = _occurrences(doc.text, old)
    if not starts:
        raise ToolError(_no_match(doc.text, old, shown))
    lines = [line_at(doc.text, s) for s in starts]
    if len(starts) > 1 and not args.replace_all:
        raise ToolError(
            f"old_string occurs {len(starts)} times in {shown} (at lines {_list(lines)}). "
            "Include more surrounding lines so it matches exactly one place, or set "
            "replace_all=true to replace every occurrence."
        )
    if args.replace_all:
        new_text = doc.text.replace(old, new)
        _check_size(ctx, new_text, "The edited file")
        summary = f"Edited {shown}: replaced {len(starts)} occurrence(s) at lines {_list(lines)}."
    else:
        s = starts[0]
        new_text = doc.text[:s] + new + doc.text[s + len(old) :]
        summary = f"Edited {shown}: replaced 1 occurrence at line {lines[0]}."
        summary += _snippet(new_text, lines[0], new.count("\n") + 1)
    return _change(ctx, doc, new_text, summary)


def _occurrences(text: str, needle: str) -> list[int]:
    """Starts of the non-overlapping occurrences, as str.replace would replace them."""
    starts, i = [], text.find(needle)
    while i >= 0:
        starts.append(i)
        i = text.find(needle, i + len(needle))
    return starts


def _list(numbers: list[int], most: int = 20) -> str:
    shown = ", ".join(map(str, numbers[:most]))
    return shown + (f", ... ({len(numbers) - most} more)" if len(numbers) > most else "")


def _no_match(text: str, old: str, shown: str) -> str:
    message = (
        f"old_string was not found in {shown}. Read the file again (read_file) and copy the "
        "exact text, including whitespace and indentation."
    )
    if looks_line_numbered(old):
        return message + (
            " Your old_string seems to include read_file's line-number prefixes; leave them out."
        )
    line = near_match(text, old)
    if line is not None:
        lines = split_lines(text)[line - 1 : line - 1 + min(old.count("\n") + 1, 12)]
        message += (
            f" A passage that differs only in whitespace starts at line {line}:\n"
            + "\n".join(number_lines(lines, line, 200))
        )
    return message


def _snippet(text: str, first: int, count: int, context: int = 2, most: int = 16) -> str:
    """The edited region with a little context, so the model can check it without re-reading."""
    lines = split_lines(text)
    start = max(1, first - context)
    end = min(len(lines), first + count - 1 + context, start + most - 1)
    if end < start:
        return ""
    region = number_lines(lines[start - 1 : end], start, 500)
    return f"\nLines {start}-{end} now read:\n" + "\n".join(region)


async def _preview_edit(args: EditFileArgs, ctx: ToolContext) -> Diff | None:
    return (await _plan_edit(args, ctx)).diff


@tool(kind="edit", preview=_preview_edit, title=lambda a: f"Edit {a.path}")
async def edit_file(args: EditFileArgs, ctx: ToolContext) -> ToolResult:
    """Replace exact text in a file: old_string with new_string.

    old_string must match the file exactly (whitespace and indentation included; no
    read_file line-number prefixes) and occur exactly once, or set replace_all to change
    every occurrence. Include a few surrounding lines to make a match unique. Read the file
    before editing it. To create a file use write_file. The result shows the edited lines.
    """
    return await _apply(ctx, await _plan_edit(args, ctx), "edit_file")
