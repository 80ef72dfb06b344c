"""Glob translation: linear-time regexes that mean what the plain translation means."""

from __future__ import annotations

import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_agent.tools.globs import MAX_ALTERNATIVES, expand_braces, translate
from lsp_agent.tools.ignore import compile_pattern


def naive(glob: str) -> str:
    """The plain (backtracking) translation: the meaning the linear one must keep."""
    out, i, n = [], 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            at_start = i == 0 or glob[i - 1] == "/"
            if j - i >= 2 and at_start and j < n and glob[j] == "/":
                out.append("(?:.*/)?")
                j += 1
            elif j - i >= 2 and at_start and j == n:
                out.append(".*")
            else:
                out.append("[^/]*")
            i = j
            continue
        out.append("[^/]" if c == "?" else re.escape(c))
        i += 1
    return "".join(out)


GLOB_PARTS = st.sampled_from(["a", "b", "*", "**", "?", "/", "**/", "a*", "*b"])
PATHS = st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", "x"]), min_size=1, max_size=5)


@settings(max_examples=600, deadline=None)
@given(parts=st.lists(GLOB_PARTS, min_size=1, max_size=7), segments=PATHS)
def test_same_meaning_as_the_plain_translation(parts: list[str], segments: list[str]) -> None:
    glob = "".join(parts).strip("/")
    if not glob or "//" in glob:
        return
    path = "/".join(segments)
    plain = re.match(naive(glob) + r"\Z", path, re.DOTALL) is not None
    linear = re.match(translate(glob, braces=False) + r"\Z", path, re.DOTALL) is not None
    assert linear == plain, (glob, path, translate(glob, braces=False))


def finishes(pattern: str, path: str) -> bool:
    """Match in a worker thread; False if it is still running after a generous guard
    (the plain translation takes minutes for these, the linear one microseconds)."""
    compiled = compile_pattern(pattern, braces=True)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (compiled.matches(path, False), done.set()))
    worker.daemon = True  # a stuck worker must not keep pytest alive
    worker.start()
    return done.wait(20)


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("**/" * 12 + "e/file.txt", "/".join(["d"] * 60) + "/x/file.txt"),
        ("**/a*/" * 8 + "b", "/".join(["aa"] * 60)),
        ("*a" * 12 + "b", "a" * 250),
        ("{x,**/}" * 4 + "**/" * 6 + "q", "/".join(["d"] * 60)),
    ],
)
def test_hostile_globs_match_in_linear_time(pattern: str, path: str) -> None:
    assert finishes(pattern, path)


def test_repeated_globstars_still_mean_any_depth() -> None:
    pattern = compile_pattern("**/" * 12 + "e/file.txt", braces=True)
    assert pattern.matches("e/file.txt", False)
    assert pattern.matches("a/b/c/e/file.txt", False)
    assert not pattern.matches("a/b/c/f/file.txt", False)


def test_brace_expansion_is_capped() -> None:
    assert expand_braces("{a,b}{c,d}.{x,y}") == [
        f"{a}{b}.{c}" for a in "ab" for b in "cd" for c in "xy"
    ]
    assert expand_braces("{a,{b,c}}") == ["a", "b", "c"]
    with pytest.raises(re.error, match=str(MAX_ALTERNATIVES)):
        expand_braces("{a,b}" * 9)
