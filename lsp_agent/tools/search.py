"""Search tools: glob (files by name) and grep (lines by regex)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from lsp_agent.tools.base import ToolContext, ToolResult, tool
from lsp_agent.tools.files import PATH_HELP, workspace_errors
from lsp_agent.tools.text import clip_line
from lsp_agent.workspace import GrepMatch, rule_name

GLOB_LIMIT = 1000
GREP_LINE_CHARS = 300

GLOB_HELP = (
    "Without '/', a pattern matches file names at any depth ('*.py', 'test_*'); with '/', "
    "it matches paths from the search directory ('src/**/*.ts'). '**' spans directories, "
    "'{a,b}' gives alternatives."
)


def _readable(ctx: ToolContext) -> Callable[[str], bool]:
    """Whether a result may be shown: read-deny rules apply to search results too."""
    perms = ctx.permissions
    if perms is None:
        return lambda shown: True
    ws = ctx.workspace

    def readable(shown: str) -> bool:  # shown from the cwd; rules anchor at the root
        return not perms.read_denied(*rule_name(ws, shown))

    return readable


def _hidden_note(count: int) -> str:
    return f"\n({_plural(count, 'file', 'files')} left out: read-deny rules.)" if count else ""


def _in(path: str) -> str:
    return "" if path in ("", ".") else f" in {path}"


class GlobArgs(BaseModel):
    pattern: str = Field(description=f"Glob for file paths. {GLOB_HELP}")
    path: str = Field(".", description=f"Directory to search under. {PATH_HELP}")


@tool(kind="search", title=lambda a: f"Find {a.pattern}{_in(a.path)}")
async def glob(args: GlobArgs, ctx: ToolContext) -> ToolResult:
    """Find files by name or path pattern, e.g. '**/*.py' or 'src/**/test_*.ts'.

    Lists files (not directories), sorted by path, relative to the working directory.
    Files ignored by .gitignore and the .git directory are skipped; hidden files are
    included. Use grep to search file contents.
    """
    ws = ctx.workspace
    with workspace_errors():
        base = ws.resolve(args.path)
        paths, truncated = await ws.glob(args.pattern, base, GLOB_LIMIT)
    readable = _readable(ctx)
    shown_paths = [p for p in paths if readable(p)]
    hidden = len(paths) - len(shown_paths)
    paths = shown_paths
    if not paths:
        return ToolResult(f"No files match {args.pattern!r} under {ws.display(base)}.")
    budget = ctx.settings.tools.output_limit - 200
    lines: list[str] = []
    used = 0
    for p in paths:
        if used + len(p) + 1 > budget:
            truncated = True
            break
        lines.append(p)
        used += len(p) + 1
    if truncated:
        lines.append(
            f"\n(Showing the first {len(lines)} files; there are more. Use a narrower pattern "
            "or path.)"
        )
    return ToolResult("\n".join(lines) + _hidden_note(hidden))


class GrepArgs(BaseModel):
    pattern: str = Field(
        description="Regular expression (Rust/PCRE-like syntax: \\b, \\d, (?i), ...). "
        "Escape regex characters to search for them literally, e.g. 'foo\\(' for 'foo('."
    )
    path: str = Field(".", description=f"Directory or file to search. {PATH_HELP}")
    glob: str | None = Field(
        None, description=f"Only search files matching this glob, e.g. '*.py'. {GLOB_HELP}"
    )
    ignore_case: bool = Field(False, description="Match case-insensitively.")
    context: int = Field(0, ge=0, le=20, description="Lines of context before and after.")
    max_results: int = Field(100, ge=1, le=1000, description="Stop after this many matches.")


@tool(kind="search", title=lambda a: f"Search {a.pattern!r}{_in(a.path)}")
async def grep(args: GrepArgs, ctx: ToolContext) -> ToolResult:
    """Search file contents with a regular expression (ripgrep), line by line.

    Results are grouped by file: `12: text` is a matching line, `13- text` a context line.
    Files ignored by .gitignore, binary files and the .git directory are skipped. Narrow
    with `path` and `glob`; use glob to find files by name.
    """
    ws = ctx.workspace
    with workspace_errors():
        base = ws.resolve(args.path)
        matches, truncated = await ws.grep(
            args.pattern,
            base,
            glob=args.glob,
            ignore_case=args.ignore_case,
            context=args.context,
            limit=args.max_results,
            timeout_s=ctx.settings.tools.regex_timeout_s,
        )
    readable = _readable(ctx)
    denied = {m.path for m in matches if not readable(m.path)}
    matches = [m for m in matches if m.path not in denied]
    count = sum(not m.is_context for m in matches)
    if not count:
        where = ws.display(base) + (f" (files matching {args.glob!r})" if args.glob else "")
        return ToolResult(
            f"No matches for {args.pattern!r} in {where}." + _hidden_note(len(denied))
        )
    body, cut = _render(matches, ctx.settings.tools.output_limit - 300)
    files = len({m.path for m in matches if not m.is_context})
    summary = f"{_plural(count, 'match', 'matches')} in {_plural(files, 'file', 'files')}"
    if truncated or cut:
        summary += (
            " (stopped early; there are more: narrow the pattern, path or glob"
            + (", or raise max_results" if truncated and not cut else "")
            + ")"
        )
    return ToolResult(f"{body}\n\n{summary}." + _hidden_note(len(denied)))


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _render(matches: list[GrepMatch], budget: int) -> tuple[str, bool]:
    """Grouped by file; (text, whether the budget cut it short)."""
    lines: list[str] = []
    used = 0
    previous: GrepMatch | None = None
    for m in matches:
        block: list[str] = []
        if previous is None or m.path != previous.path:
            block += ([""] if previous else []) + [m.path]
        elif m.line > previous.line + 1:
            block.append("  --")  # a gap between context groups
        sep = "-" if m.is_context else ":"
        block.append(f"  {m.line}{sep} {clip_line(m.text, GREP_LINE_CHARS)}")
        size = sum(len(b) + 1 for b in block)
        if lines and used + size > budget:
            return "\n".join(lines), True
        lines += block
        used += size
        previous = m
    return "\n".join(lines), False
