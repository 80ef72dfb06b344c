"""The pure part of per-hunk review: hunks, composing the accepted ones, judging the
editor's answer, and what the model is told."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from lsp_agent.server import review

ORIGINAL = "a\nb\nc\nd\ne\n"
PROPOSED = "a\nB\nc\nd\ne\nf\n"


def test_hunks_are_numbered_in_file_order_with_their_ranges() -> None:
    found = review.hunks("x\n" + ORIGINAL, "new\nx\n" + PROPOSED)
    assert [(h.id, h.original_start, h.original_lines, h.proposed_lines) for h in found] == [
        (0, 0, 0, 1),  # an insertion
        (1, 2, 1, 1),
        (2, 6, 0, 1),
    ]
    assert found[0].proposed_text == "new\n" and found[1].original_text == "b\n"


@pytest.mark.parametrize(
    ("original", "proposed"),
    [
        (ORIGINAL, PROPOSED),
        ("a\nb", "A\nb\nc"),  # no final newline, then one
        ("a\nb\nc\n", "c\n"),  # deletions
        ("", "new\nfile\n"),  # a new file
        ("a\nb\nc\nd\n", "a\nX\nc\nY\nZ\n"),
        ("x\ny", "x\nY"),  # the last line, without a newline, changed
    ],
)
def test_every_choice_of_hunks_composes_to_the_matching_mix(original: str, proposed: str) -> None:
    found = review.hunks(original, proposed)
    ids = [h.id for h in found]
    assert review.compose(original, found, frozenset()) == original
    assert review.compose(original, found, frozenset(ids)) == proposed
    for n in range(1, len(ids)):
        for chosen in itertools.combinations(ids, n):
            text = review.compose(original, found, frozenset(chosen))
            # each hunk taken alone: its proposed text is there, the others' are not
            assert review.landed(original, found, text) == frozenset(chosen)


def test_a_usable_answer_accepts_what_it_names() -> None:
    found = review.hunks(ORIGINAL, PROPOSED)
    assert review.decide({"accepted": [1], "rejected": [0]}, found, "hunks").accepted == {1}
    assert review.decide({"accepted": [0]}, found, "hunks").accepted == {0}
    everything = review.decide({"accepted": [0, 1]}, found, "file")
    assert everything.accepted == {0, 1} and everything.problem is None
    closed = review.decide({"accepted": [0, 1], "closed": True}, found, "hunks")
    assert closed.closed and not closed.accepted  # closed wins: nothing lands


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "not an object"),
        ([0, 1], "not an object"),
        ({}, "`accepted` was null"),
        ({"accepted": {"0": True}}, "not a list"),
        ({"accepted": ["0"]}, "a string"),
        ({"accepted": [0.0]}, "a number"),
        ({"accepted": [False]}, "a boolean"),
        ({"accepted": [-1]}, "hunk -1"),
        ({"accepted": [0], "rejected": "rest"}, "`rejected` was a string"),
        ({"accepted": list(range(10_001))}, "10001 ids"),
        ({"accepted": [0], "rejected": [0]}, "both accepted and rejected"),
    ],
)
def test_an_unusable_answer_rejects_everything_and_says_why(raw: Any, problem: str) -> None:
    found = review.hunks(ORIGINAL, PROPOSED)
    decision = review.decide(raw, found, "hunks")
    assert decision.accepted == frozenset()
    assert decision.problem is not None and problem in decision.problem


def test_a_whole_file_review_is_all_or_nothing() -> None:
    found = review.hunks(ORIGINAL, PROPOSED)
    decision = review.decide({"accepted": [0]}, found, "file")
    assert decision.accepted == frozenset() and decision.problem is not None


def test_the_report_names_each_hunk_and_quotes_what_landed() -> None:
    found = review.hunks(ORIGINAL, PROPOSED)
    final = review.compose(ORIGINAL, found, frozenset({1}))
    text = review.report("f.txt", found, frozenset({1}), final)
    assert "accepted 1 of 2 hunks" in text
    assert "- Hunk 1 (line 2): rejected" in text
    assert "- Hunk 2 (insertion after line 5): accepted; line 6 now read:\nf" in text
    whole = review.report("f.txt", found, frozenset({0, 1}), PROPOSED)
    assert whole == "The user reviewed and accepted the whole edit (2 hunks)."


def test_the_rejection_says_why() -> None:
    rejected = review.rejected_note("f.txt", review.Decision(frozenset()), 2)
    assert rejected.startswith(
        "The user rejected the edit to f.txt (2 hunks); the file is unchanged"
    )
    closed = review.rejected_note("f.txt", review.Decision(frozenset(), closed=True), 1)
    assert "closed the review" in closed
    bad = review.rejected_note("f.txt", review.Decision(frozenset(), problem="junk"), 1)
    assert "could not be used (junk)" in bad
