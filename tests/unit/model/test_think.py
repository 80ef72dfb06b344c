from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from lsp_agent.model.think import ThinkSplitter


def split(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    out = [p for piece in pieces for p in splitter.feed(piece)] + splitter.flush()
    text = "".join(t for kind, t in out if kind == "text")
    return text, "".join(t for kind, t in out if kind == "reasoning")


def cut(text: str, points: list[int]) -> list[str]:
    bounds = sorted({0, len(text), *(p % (len(text) + 1) for p in points)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def test_whole() -> None:
    assert split(["<think>a plan</think>\n\nthe answer"]) == ("the answer", "a plan")


def test_char_by_char() -> None:
    assert split(list("  <think>x < y</think>ok </think>")) == ("ok </think>", "x < y")


def test_no_think() -> None:
    assert split(["<b>bold</b>"]) == ("<b>bold</b>", "")
    assert split(["<", "thinking is fun"]) == ("<thinking is fun", "")


def test_tag_later_in_text_is_text() -> None:
    assert split(["Use ", "<think>", " tags"]) == ("Use <think> tags", "")


def test_unclosed_block_is_reasoning() -> None:
    assert split(["<think>still going </th"]) == ("", "still going </th")


def test_partial_open_at_end_is_text() -> None:
    assert split(["<thi"]) == ("<thi", "")


reasoning_text = st.text(alphabet="ab<>/think \n", max_size=30).filter(
    lambda s: "</think>" not in s
)
answer_text = st.text(alphabet="ab<>/think \n", max_size=30).map(lambda s: "x" + s)


@given(reasoning_text, answer_text, st.lists(st.integers(0, 200), max_size=12))
def test_any_split_gives_the_same_result(reasoning: str, answer: str, points: list[int]) -> None:
    whole = f"<think>{reasoning}</think>\n{answer}"
    assert split(cut(whole, points)) == (answer, reasoning)


@given(st.text(max_size=40), st.lists(st.integers(0, 200), max_size=12))
def test_plain_text_passes_through(text: str, points: list[int]) -> None:
    if text.lstrip().startswith("<think>"):
        return
    assert split(cut(text, points)) == (text, "")
