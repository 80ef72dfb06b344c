from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_agent.tools.text import (
    HeadTail,
    looks_line_numbered,
    near_match,
    truncate,
    unified_diff,
)

texts = st.text(alphabet=st.sampled_from("ab\n é"), max_size=5000)
limits = st.integers(min_value=100, max_value=3000)


@given(texts, limits)
def test_truncate_fits_and_keeps_the_ends(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        head, marker, tail = out.partition("\n[... ")
        assert marker and text.startswith(head) and text.endswith(tail.split(" ...]\n", 1)[1])
        cut = int(tail.split(" characters", 1)[0])
        assert len(head) + cut + len(tail.split(" ...]\n", 1)[1]) == len(text)


def test_truncate_marker_counts_lines() -> None:
    text = "".join(f"line {i}\n" for i in range(1000))
    out = truncate(text, 500)
    assert out.startswith("line 0\nline 1\n")
    assert out.endswith("line 998\nline 999\n")
    assert "characters (" in out and "lines) cut ...]" in out


@given(st.lists(texts, max_size=20), limits)
def test_head_tail_equals_truncating_everything(chunks: list[str], limit: int) -> None:
    collector = HeadTail(limit)
    for chunk in chunks:
        collector.add(chunk)
    assert collector.text() == truncate("".join(chunks), limit)


def test_unified_diff() -> None:
    assert unified_diff("a\nb\n", "a\nc\n", "f.py") == (
        "--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    )
    assert unified_diff("a", "b", "f") == (
        "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
        "\\ No newline at end of file\n"
    )
    assert unified_diff(None, "x\n", "n").startswith("--- /dev/null\n+++ b/n\n")


def test_near_match_and_line_numbers() -> None:
    text = "a\n  def f( x ):\n\treturn x\n"
    assert near_match(text, "def f(x):\n    return x") == 2
    assert near_match(text, "def g") is None
    assert near_match(text, "   ") is None
    assert looks_line_numbered("    12\tfoo\n    13\tbar")
    assert not looks_line_numbered("foo\n    13\tbar")
