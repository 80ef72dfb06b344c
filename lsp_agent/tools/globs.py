"""Glob patterns -> regular expressions that match in linear time.

A naive translation (`**/` -> `(?:.*/)?`, `*` -> `[^/]*`) backtracks: with k of them a
failing path costs O(n^k), and `"**/" * 12 + "e/file.txt"` freezes the process for
minutes (Python's `re` holds the interpreter lock). Two facts keep this one linear:

- Between two `**`, the pattern is a run of whole segments of fixed count. Matching that
  run at the leftmost segment boundary is always best (a later `**` absorbs whatever is
  skipped), so it sits in an atomic group `(?>...)` that never backtracks.
- Inside one segment, the pieces between `*` have fixed width, so the leftmost match of
  each piece is best, too: `a*b*c` -> `a(?>[^/]*?b)[^/]*c`.

`{a,b}` alternatives are expanded first (at most MAX_ALTERNATIVES), each one linear.
"""

from __future__ import annotations

import re

MAX_ALTERNATIVES = 256


def translate(glob: str, *, braces: bool) -> str:
    """The regex (without anchors) for a glob; raises re.error for unusable patterns."""
    alternatives = expand_braces(glob) if braces else [glob]
    parts = [_linear(alt) for alt in alternatives]
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def expand_braces(glob: str) -> list[str]:
    """`a{b,c}d` -> ['abd', 'acd'], nested and repeated; re.error past MAX_ALTERNATIVES."""
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "\\":
            i += 2
            continue
        if c == "[" and (end := _class_end(glob, i)) > 0:
            i = end + 1
            continue
        if c == "{" and (end := _brace_end(glob, i)) > 0:
            head, tails = glob[:i], expand_braces(glob[end + 1 :])
            out: list[str] = []
            for alternative in _split_top_level(glob[i + 1 : end]):
                for middle in expand_braces(alternative):
                    out += [head + middle + tail for tail in tails]
                    if len(out) > MAX_ALTERNATIVES:
                        raise re.error(
                            f"more than {MAX_ALTERNATIVES} alternatives from {{...}}; "
                            "use fewer or split the search"
                        )
            return out
        i += 1
    return [glob]


def _linear(glob: str) -> str:
    """A brace-free glob as a regex that never backtracks more than one segment."""
    segments = _segments(glob)
    out: list[str] = []
    after_globstar = False
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment is None:  # "**"
            if last:
                out.append(".*")  # a trailing "**": everything below
            after_globstar = True
        elif not after_globstar:
            out.append(segment if last else segment + "/")
        elif last:
            out.append(f"(?:.*/)?{segment}")  # the rest must end the path
        else:
            out.append(f"(?>(?:[^/]*/)*?{segment}/)")  # leftmost place, then committed
            after_globstar = False
    return "".join(out)


def _segments(glob: str) -> list[str | None]:
    """Per "/"-separated segment: its regex, or None for "**". Consecutive "**" become one;
    runs of plain segments are merged (joined by "/") so they match as one block."""
    raw: list[list[str]] = [[]]
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "/":
            raw.append([])
        elif c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            whole = (i == 0 or glob[i - 1] == "/") and (j == n or glob[j] == "/")
            raw[-1].append("**" if j - i >= 2 and whole else "*")
            i = j
            continue
        elif c == "?":
            raw[-1].append("[^/]")
        elif c == "[" and (end := _class_end(glob, i)) > 0:
            raw[-1].append(_char_class(glob[i + 1 : end]))
            i = end
        elif c == "\\" and i + 1 < n:
            raw[-1].append(re.escape(glob[i + 1]))
            i += 1
        else:
            raw[-1].append(re.escape(c))
        i += 1
    out: list[str | None] = []  # None: a "**" segment, any number of directories
    for units in raw:
        if units == ["**"]:
            if not out or out[-1] is not None:
                out.append(None)
        elif out and out[-1] is not None:
            out[-1] = f"{out[-1]}/{_segment(units)}"
        else:
            out.append(_segment(units))
    return out


def _segment(units: list[str]) -> str:
    """One segment's regex: `p0 * p1 * ... * pk` with each middle piece matched leftmost."""
    pieces: list[list[str]] = [[]]
    for unit in units:
        if unit in ("*", "**"):
            pieces.append([])
        else:
            pieces[-1].append(unit)
    if len(pieces) == 1:
        return "".join(pieces[0])
    first, *middle, final = ("".join(p) for p in pieces)
    return first + "".join(f"(?>[^/]*?{p})" for p in middle if p) + f"[^/]*{final}"


def _class_end(glob: str, start: int) -> int:
    """Index of the "]" closing the class opened at start, or -1 (then "[" is literal)."""
    j = start + 1
    if j < len(glob) and glob[j] in "!^":
        j += 1
    if j < len(glob) and glob[j] == "]":
        j += 1  # a leading "]" is a member
    return glob.find("]", j)


def _char_class(inner: str) -> str:
    negate = inner[:1] in ("!", "^")
    if negate:
        inner = inner[1:]
    inner = re.sub(r"([\\\[&~|])", r"\\\1", inner)  # literal in globs, special in re
    return f"[^/{inner}]" if negate else f"[{inner}]"


def _brace_end(glob: str, start: int) -> int:
    depth = 0
    for j in range(start, len(glob)):
        if glob[j] == "{":
            depth += 1
        elif glob[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _split_top_level(inner: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for j, c in enumerate(inner):
        depth += (c == "{") - (c == "}")
        if c == "," and depth == 0:
            parts.append(inner[start:j])
            start = j + 1
    parts.append(inner[start:])
    return parts
