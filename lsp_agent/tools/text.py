"""Text helpers for tool results: capping output, numbering lines, diffs, near matches."""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterable


def truncate(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its head and tail around a marker
    saying how much was cut; the result never exceeds `limit` (for limits above ~60)."""
    if len(text) <= limit:
        return text
    mid = len(text) // 2
    return _shorten(text[:mid], text[mid:], 0, 0, limit)


class HeadTail:
    """Collects streamed text in bounded memory, keeping what `truncate` would keep."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self._gap_chars = 0
        self._gap_lines = 0

    def add(self, text: str) -> None:
        room = self.limit - self._head_len
        if room > 0:
            self._head.append(text[:room])
            self._head_len += len(text[:room])
            text = text[room:]
        if not text:
            return
        self._tail.append(text)
        self._tail_len += len(text)
        while self._tail_len - len(self._tail[0]) >= self.limit:
            dropped = self._tail.popleft()
            self._tail_len -= len(dropped)
            self._gap_chars += len(dropped)
            self._gap_lines += dropped.count("\n")

    def text(self) -> str:
        head, tail = "".join(self._head), "".join(self._tail)
        if not self._gap_chars:
            return truncate(head + tail, self.limit)
        return _shorten(head, tail, self._gap_chars, self._gap_lines, self.limit)


def _marker(chars: int, lines: int) -> str:
    return f"\n[... {chars} characters ({lines} lines) cut ...]\n"


def _shorten(head: str, tail: str, gap_chars: int, gap_lines: int, limit: int) -> str:
    """A prefix of head and a suffix of tail (with gap_chars unseen between) in `limit`."""
    total = len(head) + gap_chars + len(tail)
    keep = limit - len(_marker(total, total))  # the widest marker this text can need
    if keep < 2:
        return head[:limit]
    t = min(len(tail), keep - keep // 2)
    h = min(len(head), keep - t)
    t = min(len(tail), keep - h)
    # Prefer to cut at line boundaries when one is close.
    nl = head.rfind("\n", 0, h)
    if nl >= 0 and nl + 1 >= h * 0.8:
        h = nl + 1
    start = len(tail) - t
    nl = tail.find("\n", start, start + t // 5)
    if nl >= 0:
        t = len(tail) - (nl + 1)
    cut_lines = head.count("\n", h) + gap_lines + tail.count("\n", 0, len(tail) - t)
    marker = _marker(total - h - t, cut_lines)
    return head[:h] + marker + tail[len(tail) - t :]


def split_lines(text: str) -> list[str]:
    """Lines of "\n"-normalized text without their endings; "" has none."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def clip_line(line: str, limit: int) -> str:
    if len(line) <= limit:
        return line
    return f"{line[:limit]}... [{len(line) - limit} more characters on this line]"


def number_lines(lines: Iterable[str], first: int, max_line: int = 2000) -> list[str]:
    """`cat -n` style: right-aligned 1-based numbers, a tab, the (clipped) line."""
    return [f"{n:>6}\t{clip_line(line, max_line)}" for n, line in enumerate(lines, first)]


def line_at(text: str, index: int) -> int:
    """1-based line number of a character index."""
    return text.count("\n", 0, index) + 1


def unified_diff(old: str | None, new: str, name: str) -> str:
    """A git-style unified diff; old None means the file is created."""

    def keep_ends(text: str) -> list[str]:
        lines = text.split("\n")
        return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])

    diff = difflib.unified_diff(
        keep_ends(old or ""),
        keep_ends(new),
        fromfile="/dev/null" if old is None else f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff
    )


def near_match(text: str, needle: str) -> int | None:
    """Line where `needle` occurs if whitespace is ignored (indentation, spacing, blank lines)."""
    chars = [re.escape(c) for c in needle if not c.isspace()]
    if not chars:
        return None
    try:
        found = re.search(r"\s*".join(chars), text)
    except (re.error, RecursionError):  # absurdly long needles
        return None
    return None if found is None else line_at(text, found.start())


_NUMBERED = re.compile(r"^\s*\d+\t")


def looks_line_numbered(text: str) -> bool:
    """True when every non-blank line starts like read_file output ("    12<TAB>")."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all(_NUMBERED.match(line) for line in lines)
