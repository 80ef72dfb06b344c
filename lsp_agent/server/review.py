"""Per-hunk review of an agent edit, the pure part: the hunks of a change, the text built
from the accepted ones, the editor's answer judged, and what the model is told.

Texts have "\\n" line endings; hunks are whole lines, in file order, numbered from 0.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

from lsp_agent.server.review_protocol import MAX_HUNK_IDS, ReviewHunk

Granularity = Literal["hunks", "file"]
SHOW_LIMIT = 4000  # characters of landed text quoted back to the model per hunk


@dataclass(frozen=True)
class Decision:
    accepted: frozenset[int]
    closed: bool = False  # the user closed the review without deciding
    problem: str | None = None  # the answer was unusable (or missing): why


def hunks(original: str, proposed: str) -> list[ReviewHunk]:
    """The changed line ranges, as difflib's SequenceMatcher finds them (the same
    ranges the versioned workspace edit would replace)."""
    a, b = original.splitlines(keepends=True), proposed.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[ReviewHunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        out.append(
            ReviewHunk(
                id=len(out),
                original_start=i1,
                original_lines=i2 - i1,
                proposed_start=j1,
                proposed_lines=j2 - j1,
                original_text="".join(a[i1:i2]),
                proposed_text="".join(b[j1:j2]),
            )
        )
    return out


def compose(original: str, found: list[ReviewHunk], accepted: frozenset[int]) -> str:
    """`original` with only the accepted hunks applied."""
    lines = original.splitlines(keepends=True)
    out: list[str] = []
    at = 0
    for h in found:
        out += lines[at : h.original_start]
        if h.id in accepted:
            out.append(h.proposed_text)
        else:
            out.append(h.original_text)
        at = h.original_start + h.original_lines
    out += lines[at:]
    # Only a hunk that covers a last line without "\n" can change it, so no two lines
    # glue together whichever hunks are rejected.
    return "".join(out)


def decide(raw: Any, found: list[ReviewHunk], granularity: Granularity) -> Decision:
    """The editor's answer, judged strictly: anything unusable rejects everything."""
    ids = {h.id for h in found}
    if not isinstance(raw, dict):
        return Decision(
            frozenset(), problem=f"the editor's answer was not an object ({_kind(raw)})"
        )
    if raw.get("closed") is True:
        return Decision(frozenset(), closed=True)
    accepted, rejected = raw.get("accepted"), raw.get("rejected", [])
    for name, value in (("accepted", accepted), ("rejected", rejected)):
        problem = _bad_ids(name, value, ids)
        if problem is not None:
            return Decision(frozenset(), problem=problem)
    assert isinstance(accepted, list)
    chosen = frozenset(accepted)
    if chosen & set(rejected or []):
        return Decision(frozenset(), problem="the answer both accepted and rejected a hunk")
    if granularity == "file" and chosen and chosen != ids:
        return Decision(frozenset(), problem="a whole-file review accepted only some hunks")
    return Decision(chosen)


def _bad_ids(name: str, value: Any, ids: set[int]) -> str | None:
    if not isinstance(value, list):
        return f"`{name}` was {_kind(value)}, not a list of hunk ids"
    if len(value) > MAX_HUNK_IDS:
        return f"`{name}` listed {len(value)} ids"
    for item in value:
        if type(item) is not int:  # bool is an int in Python; not here
            return f"`{name}` held {_kind(item)}, not a hunk id"
        if item not in ids:
            return f"`{name}` named hunk {item}, which this review does not have"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def where(h: ReviewHunk) -> str:
    """The hunk's place in the original file, 1-based, as the model reads the file."""
    if h.original_lines == 0:
        return f"insertion after line {h.original_start}"
    if h.original_lines == 1:
        return f"line {h.original_start + 1}"
    return f"lines {h.original_start + 1}-{h.original_start + h.original_lines}"


def label(h: ReviewHunk) -> str:
    return f"Hunk {h.id + 1} ({where(h)})"


def rejected_note(shown: str, decision: Decision, count: int) -> str:
    """All rejected: what the model is told (the tool call fails)."""
    if decision.closed:
        why = "The user closed the review without accepting it, so"
    elif decision.problem is not None:
        why = f"The review could not be used ({decision.problem}), so"
    else:
        why = "The user rejected"
        return (
            f"{why} the edit to {shown} ({_hunks(count)}); the file is unchanged. Do not "
            "redo it as it was; ask the user what they want instead."
        )
    return f"{why} the edit to {shown} counts as rejected; the file is unchanged."


def report(shown: str, found: list[ReviewHunk], accepted: frozenset[int], final: str) -> str:
    """Some or all accepted: which hunks landed (with their text as it now reads) and
    which were rejected, numbered as in the review, lines as in the file before."""
    if len(accepted) == len(found):
        return f"The user reviewed and accepted the whole edit ({_hunks(len(found))})."
    lines = [
        f"The user reviewed the edit to {shown} and accepted {len(accepted)} of "
        f"{_hunks(len(found))}; only those were written."
    ]
    final_lines = final.splitlines(keepends=True)
    shift = 0  # line offset of the final text against the original, so far
    for h in found:
        start = h.original_start + shift
        if h.id in accepted:
            shift += h.proposed_lines - h.original_lines
            text = "".join(final_lines[start : start + h.proposed_lines])
            lines.append(f"- {label(h)}: accepted; {_now_reads(start, h.proposed_lines, text)}")
        else:
            lines.append(f"- {label(h)}: rejected; those lines are unchanged.")
    lines.append("Read the file before editing it again.")
    return "\n".join(lines)


def _now_reads(start: int, count: int, text: str) -> str:
    if count == 0:
        return f"the lines were removed (the file continues at line {start + 1})."
    if len(text) > SHOW_LIMIT:
        text = text[:SHOW_LIMIT] + "…(cut)\n"
    span = f"line {start + 1}" if count == 1 else f"lines {start + 1}-{start + count}"
    return f"{span} now read:\n{text.rstrip(chr(10))}"


def _hunks(n: int) -> str:
    return f"{n} hunk" if n == 1 else f"{n} hunks"


def landed(original: str, found: list[ReviewHunk], current: str) -> frozenset[int] | None:
    """After an edit the editor may have applied in part (change annotations the user
    confirmed or not): the hunks that landed, or None if `current` is no such mix."""
    ids = {h.id for h in found}
    if current == original:
        return frozenset()
    got = {(h.original_start, h.original_lines, h.proposed_text) for h in hunks(original, current)}
    guess = frozenset(
        h.id for h in found if (h.original_start, h.original_lines, h.proposed_text) in got
    )
    if compose(original, found, guess) == current:
        return guess
    return frozenset(ids) if compose(original, found, frozenset(ids)) == current else None
