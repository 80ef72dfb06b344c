"""The expansions bash applies before it runs a command, done statically where they can be:
brace expansion (`{rm,-rf,x}` is `rm -rf x`) and splitting on the default IFS
(`rm${IFS}-rf`). Anything else that expands (other parameters, globs in the program's
name) is unknown, and the classifier says so."""

from __future__ import annotations

import re

MAX_WORDS = 256  # expanding more than this is judged as unknown
_IFS = re.compile(r"\$\{IFS\}|\$IFS(?![A-Za-z0-9_])")
_SEQUENCE = re.compile(r"(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.-?\d+)?")
_GLOB = re.compile(r"[*?[]")


class TooMany(Exception):
    pass


def expand_words(words: list[str]) -> list[str] | None:
    """The words after brace expansion and default-IFS splitting; None when unchanged."""
    out: list[str] = []
    changed = False
    for word in words:
        split = (
            [w for piece in _IFS.split(word) for w in piece.split()]
            if _IFS.search(word)
            else [word]
        )
        changed = changed or split != [word]
        for piece in split:
            try:
                expanded = braces(piece)
            except TooMany:
                return None
            changed = changed or expanded != [piece]
            out += expanded
            if len(out) > MAX_WORDS:
                return None
    return out if changed else None


def braces(word: str) -> list[str]:
    """bash's brace expansion of one word (quoting is not known here, so quoted braces
    expand too: only stricter)."""
    start = word.find("{")
    while start >= 0:
        end, commas = _closing(word, start)
        if end is None:
            return [word]
        body = word[start + 1 : end]
        pre, post = word[:start], word[end + 1 :]
        if commas:
            alternatives = _split_top(body)
        elif (m := _SEQUENCE.fullmatch(body)) is not None:
            alternatives = _sequence(m[1], m[2])
        else:
            start = word.find("{", start + 1)
            continue
        results: list[str] = []
        for alt in alternatives:
            results += braces(pre + alt + post)
            if len(results) > MAX_WORDS:
                raise TooMany
        return results
    return [word]


def _closing(word: str, start: int) -> tuple[int | None, bool]:
    depth, commas = 0, False
    for i in range(start, len(word)):
        c = word[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i, commas
        elif c == "," and depth == 1:
            commas = True
    return None, False


def _split_top(body: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in body:
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        depth += (c == "{") - (c == "}")
        cur.append(c)
    return [*parts, "".join(cur)]


def _sequence(a: str, b: str) -> list[str]:
    if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
        lo, hi = int(a), int(b)
        if abs(hi - lo) > MAX_WORDS:
            raise TooMany
        step = 1 if hi >= lo else -1
        return [str(n) for n in range(lo, hi + step, step)]
    if len(a) == len(b) == 1 and not a.isdigit() and not b.isdigit():
        step = 1 if ord(b) >= ord(a) else -1
        return [chr(n) for n in range(ord(a), ord(b) + step, step)]
    return [f"{a}..{b}"]


def unknown_program(word: str, has_params: bool) -> bool:
    """A program name bash would only know after expanding it: `$CMD`, `/bin/r?`."""
    return has_params or bool(_GLOB.search(word))
