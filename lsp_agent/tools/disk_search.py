"""glob and grep over files on disk: ripgrep when it is available, else a pure-Python walk
(grep's in a child process: see `py_grep`).

Both backends list the same files: .gitignore respected (also outside git repositories),
hidden files included, `.git` and symlinks skipped, entries in path order. The glob is
matched in Python for both (see `ignore`), because ripgrep's own `--glob` would re-include
ignored files it names.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsp_agent.tools.ignore import ParentRules, PathRules, compile_pattern, walk_files
from lsp_agent.tools.py_grep import DEFAULT_TIMEOUT_S, grep_in_child, trim_context
from lsp_agent.workspace import MAX_READ_BYTES, GrepMatch, WorkspaceError

T = TypeVar("T")
_JSON_LINE_LIMIT = 64 * 1024 * 1024  # a minified 5 MB line, JSON-escaped, still fits
_STDERR_KEEP = 64 * 1024
OVERREAD = 8  # how far past a limit unordered rg output is read before sorting
_LINES_PER_STEP = 16  # rg JSON lines handled per event-loop step
_OTHER_MESSAGES = (b'{"type":"begin"', b'{"type":"end"', b'{"type":"summary"')


@dataclass(frozen=True)
class GrepQuery:
    pattern: str
    glob: str | None
    ignore_case: bool
    context: int
    limit: int


@functools.cache
def find_rg() -> str | None:
    """ripgrep next to the interpreter first (the PyPI `ripgrep` wheel), then on PATH."""
    beside = Path(sys.executable).parent / "rg"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("rg")


def glob_matcher(pattern: str, base: Path) -> Callable[[str], bool]:
    """A predicate on absolute paths under base; WorkspaceError for an unusable pattern."""
    text = pattern.strip()
    base_prefix = os.path.join(base, "")
    text = text.removeprefix(base_prefix)  # an absolute pattern under base is fine too
    while text.startswith("./"):
        text = text[2:]
    if not text:
        raise WorkspaceError("The glob pattern is empty; use e.g. '**/*.py'.")
    try:
        compiled = compile_pattern(text, braces=True)
    except re.error as e:
        raise WorkspaceError(f"Invalid glob pattern {pattern!r}: {e}.") from None
    return lambda path: compiled.matches(path[len(base_prefix) :], False)


async def glob_files(
    rg: str | None, root: Path, base: Path, pattern: str, limit: int
) -> tuple[list[str], bool]:
    """Absolute paths of files under base matching pattern, in path order; (paths, truncated)."""
    accept = glob_matcher(pattern, base)
    if rg is not None:
        narrow, where, reincludes = _narrowing(pattern, base)
        if not where.is_dir():
            return [], False
        rg_accept = await asyncio.to_thread(_accept, root, where, accept, reincludes)
        found, truncated = await _rg_glob(rg, root, where, narrow, rg_accept, limit)
    else:
        found, truncated = await _in_thread(
            lambda stop: _py_glob(str(root), str(base), accept, limit, stop)
        )
    return sorted(found, key=lambda p: p.split(os.sep)), truncated


def _narrowing(pattern: str, base: Path) -> tuple[list[str], Path, bool]:
    """What lets rg list fewer files for a glob (Python still matches each one exactly):
    a file-name filter from the last segment (see _name_filter), and the literal leading
    directories."""
    parts = pattern.strip().removeprefix(os.path.join(base, "")).split("/")
    while parts and parts[0] in ("", "."):
        parts.pop(0)
    where = base
    while len(parts) > 1 and _literal(parts[0]) and parts[0] != "..":
        where = where / parts.pop(0)
    args, reincludes = _name_filter(parts[-1] if parts else "")
    return args, where, reincludes


_EXTENSION = re.compile(r"[^.!].*\.[A-Za-z0-9]+")


def _name_filter(name: str) -> tuple[list[str], bool]:
    """rg arguments that list only files named like `name`, and whether what rg lists then
    needs the whole .gitignore check. `--glob` is the fast filter (a type filter costs rg
    ~50% more), but it re-includes the ignored paths it names (PathRules takes them out
    again): used only for names ending in an extension, which seldom name a directory, so
    rg does not walk into ignored trees for them."""
    if not name or "**" in name or any(c in name for c in ":[\\"):
        return [], False
    if _EXTENSION.fullmatch(name):
        return ["--glob", name], True
    return ["--type-add", f"sel:{name}", "--type", "sel"], False  # obeys ignores


def _literal(segment: str) -> bool:
    return bool(segment) and not any(c in segment for c in "*?[]{}\\")


async def grep_files(
    rg: str | None,
    root: Path,
    base: Path,
    base_is_dir: bool,
    query: GrepQuery,
    shown: Callable[[str], str],
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[list[GrepMatch], bool]:
    """Matches in path order; ripgrep first, Python's `re` (in a child, capped at
    timeout_s) for what ripgrep's engine lacks or without ripgrep."""
    accept = None
    if query.glob:
        accept = glob_matcher(query.glob, base if base_is_dir else base.parent)
    if rg is not None:
        name_glob = (query.glob or "").strip()
        narrow, reincludes = _name_filter(name_glob) if "/" not in name_glob else ([], False)
        rg_accept = accept
        if base_is_dir:
            rg_accept = await asyncio.to_thread(_accept, root, base, accept, reincludes)
        try:
            return await _rg_grep(rg, root, base, query, narrow, rg_accept, shown)
        except _RustRegexUnsupported:
            pass  # look-around or backreferences: Python's re has them
    request = {
        "pattern": query.pattern,
        "glob": query.glob,
        "ignore_case": query.ignore_case,
        "context": query.context,
        "limit": query.limit,
    }
    return await grep_in_child(root, base, request, shown, timeout_s)


# --- ripgrep --------------------------------------------------------------------


class _RustRegexUnsupported(Exception):
    pass


def _rg_args(rg: str) -> list[str]:
    # .gitignore counts outside repositories too. rg 14.1.0 misapplies anchored patterns
    # from parent directories (ripgrep#2778), so those are applied in Python instead.
    # No --sort: it makes rg single-threaded; results are sorted here.
    return [
        *(rg, "--no-config", "--no-messages", "--hidden", "--no-require-git"),
        *("--no-ignore-parent", "--glob", "!.git"),
    ]


def _accept(
    root: Path, base: Path, glob: Callable[[str], bool] | None, reincluded: bool
) -> Callable[[str], bool]:
    """Reads .gitignore files: call it off the loop."""
    parents = PathRules(str(base), str(root)) if reincluded else ParentRules(str(base), str(root))
    if glob is None:
        return lambda path: not parents.ignores(path)
    return lambda path: glob(path) and not parents.ignores(path)


def _targets(root: Path, base: Path) -> list[str]:
    # Run from the root so the .gitignore files between root and base apply; always name
    # the path, or rg might search stdin.
    return ["--", "." if base == root else os.path.relpath(base, root)]


def _join(root: Path, name: bytes) -> str:
    return os.path.join(root, os.fsdecode(name).removeprefix("./"))


async def _rg_glob(
    rg: str,
    root: Path,
    base: Path,
    narrow: list[str],
    accept: Callable[[str], bool],
    limit: int,
) -> tuple[list[str], bool]:
    proc = await asyncio.create_subprocess_exec(
        *_rg_args(rg),
        "--files",
        "--null",
        *narrow,
        *_targets(root, base),
        cwd=root,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    found: list[str] = []
    pending = b""
    # rg lists in parallel, in no set order: read past the limit so the first `limit` in
    # path order are (almost always) among what was read.
    cap = limit * OVERREAD
    try:
        while chunk := await proc.stdout.read(1 << 16):
            *names, pending = (pending + chunk).split(b"\0")
            for name in names:
                path = _join(root, name)
                if accept(path):
                    found.append(path)
            if len(found) > cap:
                break
        found.sort(key=lambda p: p.split(os.sep))
        return found[:limit], len(found) > limit
    finally:
        await _stop(proc)


async def _rg_grep(
    rg: str,
    root: Path,
    base: Path,
    q: GrepQuery,
    narrow: list[str],
    accept: Callable[[str], bool] | None,
    shown: Callable[[str], str],
) -> tuple[list[GrepMatch], bool]:
    args = [*_rg_args(rg), "--json", "--max-filesize", str(MAX_READ_BYTES)]
    args.append("--ignore-case" if q.ignore_case else "--case-sensitive")
    if q.context:
        args += ["--context", str(q.context)]
    args += [*narrow, "--regexp", q.pattern, *_targets(root, base)]
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=root,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=_JSON_LINE_LIMIT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.create_task(_drain(proc.stderr))
    out: list[GrepMatch] = []
    count = 0
    try:
        lines = 0
        async for raw in proc.stdout:
            lines += 1
            if lines % _LINES_PER_STEP == 0:
                await asyncio.sleep(0)  # buffered output: let the editor's requests in between
            if raw.startswith(_OTHER_MESSAGES):
                continue  # begin, end and summary: a line per file, not worth parsing
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind not in ("match", "context"):
                continue
            data = msg["data"]
            path = _join(root, _raw(data["path"]))
            if accept is not None and not accept(path):
                continue
            text = _raw(data["lines"]).decode("utf-8", "replace").rstrip("\n").rstrip("\r")
            out.append(GrepMatch(shown(path), int(data["line_number"]), text, kind == "context"))
            count += kind == "match"
            if count > q.limit * OVERREAD:  # unordered output: read past the limit, then sort
                break
        else:
            if await proc.wait() == 2:
                _raise_rg_error(q.pattern, (await stderr).decode("utf-8", "replace"))
        return _first(_in_path_order(out), q.limit, q.context), count > q.limit
    finally:
        await _stop(proc)
        stderr.cancel()


def _first(matches: list[GrepMatch], limit: int, context: int) -> list[GrepMatch]:
    """The first `limit` matches with their context (and the last one's trailing lines)."""
    seen = 0
    for i, m in enumerate(matches):
        if not m.is_context:
            seen += 1
            if seen == limit + 1:
                return trim_context(matches[:i], context)
    return matches


def _in_path_order(matches: list[GrepMatch]) -> list[GrepMatch]:
    """rg searches files in parallel, each file's lines kept together: order by file."""
    return sorted(matches, key=lambda m: (m.path.split("/"), m.line))


def _raw(field: dict[str, Any]) -> bytes:
    """rg's JSON carries UTF-8 as "text" and anything else as base64 "bytes"."""
    if "text" in field:
        return str(field["text"]).encode("utf-8", "surrogateescape")
    return base64.b64decode(field["bytes"])


def _raise_rg_error(pattern: str, stderr: str) -> None:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return  # rg exits 2 after per-file errors too; --no-messages keeps those quiet
    if "regex parse error" in stderr:
        with contextlib.suppress(re.error):
            re.compile(pattern)
            raise _RustRegexUnsupported
        detail = lines[-1].removeprefix("error: ")
        raise WorkspaceError(f"Invalid regex {pattern!r}: {detail}.")
    raise WorkspaceError(f"Search failed: {' '.join(lines).removeprefix('rg: ')}")


async def _drain(stream: asyncio.StreamReader) -> bytes:
    """Read to EOF (so the child never blocks on a full pipe), keeping the start."""
    kept = b""
    while chunk := await stream.read(1 << 16):
        if len(kept) < _STDERR_KEEP:
            kept += chunk
    return kept


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()


# --- pure-Python fallback ---------------------------------------------------------


async def _in_thread(fn: Callable[[threading.Event], T]) -> T:
    stop = threading.Event()
    try:
        return await asyncio.to_thread(fn, stop)
    finally:
        stop.set()  # if we were cancelled, the worker notices and ends early


def _py_glob(
    root: str, base: str, accept: Callable[[str], bool], limit: int, stop: threading.Event
) -> tuple[list[str], bool]:
    found: list[str] = []
    for path in walk_files(base, root, stop):
        if accept(path):
            if len(found) == limit:
                return found, True
            found.append(path)
    return found, False
