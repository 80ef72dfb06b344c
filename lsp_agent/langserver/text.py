"""Text helpers of the language-server tools: positions (UTF-16, as LSP counts them),
applying TextEdits, finding a symbol on a line, and compact diagnostics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}


def utf16_col(line: str, index: int) -> int:
    """A str index on a line -> LSP's UTF-16 column."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in line[:index])


def str_index(line: str, col16: int) -> int:
    """LSP's UTF-16 column -> a str index on the line (clamped to its end)."""
    units = 0
    for i, c in enumerate(line):
        if units >= col16:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
    return len(line)


def offset_of(text: str, line: int, col16: int) -> int:
    lines = text.split("\n")
    if line >= len(lines):
        return len(text)
    start = sum(len(x) + 1 for x in lines[:line])
    return start + str_index(lines[line], col16)


def apply_edits(text: str, edits: Iterable[Any]) -> str:
    """TextEdits (non-overlapping, as the spec requires) applied from the end backwards."""
    spans = []
    for e in edits:
        r = e.range
        start = offset_of(text, r.start.line, r.start.character)
        end = offset_of(text, r.end.line, r.end.character)
        spans.append((start, end, e.new_text.replace("\r\n", "\n")))
    for start, end, new in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def find_column(lines: list[str], line: int, symbol: str | None) -> tuple[int, int] | None:
    """(0-based line, UTF-16 column) of the symbol on `line` (1-based), else on the lines
    near it: models often miss by a line or two. Without a symbol: the line's first name."""
    if not 1 <= line <= len(lines):
        return None
    order = [line - 1] + [n for d in (1, 2, 3) for n in (line - 1 - d, line - 1 + d)]
    for n in order:
        if not 0 <= n < len(lines):
            continue
        text = lines[n]
        if symbol:
            m = re.search(rf"(?<![\w$]){re.escape(symbol)}(?![\w$])", text)
        else:
            m = _IDENT.search(text, len(text) - len(text.lstrip()))
        if m:
            return n, utf16_col(text, m.start())
        if not symbol:
            return None
    return None


def diag_key(d: Any) -> tuple[Any, ...]:
    """What makes two diagnostics "the same" across an edit: not the line, which moves."""
    code = d.code if isinstance(d.code, str | int) else None
    return (d.severity, d.source, code, d.message)


def introduced(before: list[Any], after: list[Any]) -> list[Any]:
    """Errors and warnings in `after` that `before` did not have (a multiset difference)."""
    seen = Counter(diag_key(d) for d in before)
    out = []
    for d in after:
        if (d.severity or 1) > 2:
            continue
        key = diag_key(d)
        if seen[key]:
            seen[key] -= 1
        else:
            out.append(d)
    return out


def format_diag(shown: str, d: Any, lines: list[str] | None = None) -> str:
    line = d.range.start.line
    col = d.range.start.character + 1
    sev = SEVERITY.get(d.severity or 1, "error")
    code = f"[{d.code}]" if isinstance(d.code, str | int) else ""
    source = f" ({d.source}{code})" if d.source else ""
    message = d.message.split("\n", 1)[0].strip()
    return f"{shown}:{line + 1}:{col}  {sev}: {message}{source}"


def bounded(rows: list[str], limit_chars: int, most: int = 200) -> str:
    """Rows joined, cut at `most` rows or `limit_chars`, saying so when cut."""
    out: list[str] = []
    size = 0
    for i, row in enumerate(rows):
        if i >= most or size + len(row) + 1 > limit_chars - 120:
            out.append(f"… {len(rows) - i} more not shown (truncated); narrow the request.")
            break
        out.append(row)
        size += len(row) + 1
    return "\n".join(out)
