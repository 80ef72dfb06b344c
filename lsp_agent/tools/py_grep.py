"""grep in Python's `re`, in a child process the daemon kills at a time cap.

ripgrep's engine is linear; Python's backtracks and holds the interpreter lock, so one
pattern such as `(a|aa)+(?<!x)$` would freeze the language server for good. Patterns that
need it (look-around, backreferences, or no ripgrep at all) run here instead:
`python -m lsp_agent.tools.py_grep` reads the query as JSON on stdin and writes the
result as JSON on stdout. Imports stay light (no pydantic, no engine) so it starts fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsp_agent.tools.ignore import walk_files
from lsp_agent.workspace import BINARY_SNIFF_BYTES, MAX_READ_BYTES, GrepMatch, WorkspaceError

LINE_KEEP = 2000  # characters of a line sent back: the tool shows far fewer
DEFAULT_TIMEOUT_S = 20.0


async def grep_in_child(
    root: Path,
    base: Path,
    query: dict[str, Any],
    shown: Callable[[str], str],
    timeout_s: float,
) -> tuple[list[GrepMatch], bool]:
    """Run the search in a child; WorkspaceError when it fails or passes timeout_s."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # its own group: a Ctrl-C meant for the CLI is ours to pass
    )
    request = json.dumps({"root": str(root), "base": str(base), "cpu_s": timeout_s, **query})
    try:
        async with asyncio.timeout(timeout_s):
            out, _ = await proc.communicate(request.encode())
    except TimeoutError:
        raise WorkspaceError(
            f"The search for {query['pattern']!r} was stopped after {timeout_s:g} s. Patterns "
            "with look-around or backreferences run in a backtracking engine, where nested "
            "repetition such as '(a|aa)+' can take forever: simplify the pattern, or narrow "
            "path and glob."
        ) from None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    try:
        result = json.loads(out)
    except ValueError:
        raise WorkspaceError("The search failed (its worker process died).") from None
    if "error" in result:
        raise WorkspaceError(str(result["error"]))
    matches = [GrepMatch(shown(p), line, text, ctx) for p, line, text, ctx in result["matches"]]
    return matches, bool(result["truncated"])


def search(request: dict[str, Any]) -> dict[str, Any]:
    """The child's work: the query -> {"matches": [[path, line, text, is_context]], ...}."""
    from lsp_agent.tools.disk_search import glob_matcher  # light, but only needed here

    flags = re.IGNORECASE if request["ignore_case"] else 0
    pattern = request["pattern"]
    try:
        regex = re.compile(pattern, flags)
    except re.error as e:
        return {"error": f"Invalid regex {pattern!r}: {e}."}
    root, base = request["root"], Path(request["base"])
    accept = None
    if request["glob"]:
        try:
            accept = glob_matcher(request["glob"], base if base.is_dir() else base.parent)
        except WorkspaceError as e:
            return {"error": str(e)}
    matches, truncated = grep_files(root, base, regex, accept, request["context"], request["limit"])
    rows = [[m.path, m.line, m.text[:LINE_KEEP], m.is_context] for m in matches]
    return {"matches": rows, "truncated": truncated}


def grep_files(
    root: str,
    base: Path,
    regex: re.Pattern[str],
    accept: Callable[[str], bool] | None,
    context: int,
    limit: int,
) -> tuple[list[GrepMatch], bool]:
    """Matches with absolute paths, in path order; (matches, truncated)."""
    files = [str(base)] if base.is_file() else walk_files(str(base), root)
    out: list[GrepMatch] = []
    count = 0
    for path in files:
        if accept is not None and not accept(path):
            continue
        lines = text_lines(path)
        hits = [i for i, line in enumerate(lines) if regex.search(line)]
        if not hits:
            continue
        hit_set, shown_lines = set(hits), set[int]()
        for h in hits:
            shown_lines.update(range(max(0, h - context), min(len(lines), h + context + 1)))
        for i in sorted(shown_lines):
            if i in hit_set:
                if count == limit:
                    return trim_context(out, context), True
                count += 1
            out.append(GrepMatch(path, i + 1, lines[i], i not in hit_set))
    return out, False


def text_lines(path: str) -> list[str]:
    """Lines of a searchable file; [] for binary, oversized or unreadable ones."""
    try:
        if os.path.getsize(path) > MAX_READ_BYTES:
            return []
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return []
    lines = data.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def trim_context(out: list[GrepMatch], context: int) -> list[GrepMatch]:
    """Drop the leading context of the first match left out; keep the last one's trailer."""
    last = max((i for i, m in enumerate(out) if not m.is_context), default=-1)
    if last < 0:
        return []
    end = out[last]
    return out[: last + 1] + [
        m for m in out[last + 1 :] if m.path == end.path and m.line <= end.line + context
    ]


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    # A backstop if the daemon dies without killing us: the kernel stops a runaway search.
    cpu_s = math.ceil(request["cpu_s"]) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    sys.stdout.write(json.dumps(search(request)))  # ASCII: lone surrogates stay escaped


if __name__ == "__main__":
    main()
