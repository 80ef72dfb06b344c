"""Split `<think>…</think>` out of streamed content, with tags split across chunks.

Only a block that opens the content (after optional whitespace) counts as reasoning. Models
that think in tags always start with it, while an answer that merely mentions `<think>` (code
that parses these tags, say) must stay text.
"""

from __future__ import annotations

from typing import Literal

OPEN, CLOSE = "<think>", "</think>"
Kind = Literal["text", "reasoning"]
Piece = tuple[Kind, str]


class ThinkSplitter:
    def __init__(self) -> None:
        self._state: Literal["start", "think", "after", "text"] = "start"
        self._held = ""  # text that may still be the start of a tag

    def feed(self, chunk: str) -> list[Piece]:
        out: list[Piece] = []
        buf = self._held + chunk
        self._held = ""
        while buf:
            if self._state == "start":
                stripped = buf.lstrip()
                if stripped.startswith(OPEN):
                    self._state, buf = "think", stripped[len(OPEN) :]
                elif not stripped or OPEN.startswith(stripped):
                    self._held = buf  # whitespace or a partial `<think>`: wait
                    return out
                else:
                    self._state = "text"
            elif self._state == "think":
                end = buf.find(CLOSE)
                if end >= 0:
                    _add(out, "reasoning", buf[:end])
                    self._state, buf = "after", buf[end + len(CLOSE) :]
                    continue
                keep = _partial_suffix(buf, CLOSE)
                _add(out, "reasoning", buf[: len(buf) - keep])
                self._held = buf[len(buf) - keep :]
                return out
            elif self._state == "after":
                # Drop the blank lines between `</think>` and the answer.
                buf = buf.lstrip()
                if buf:
                    self._state = "text"
            else:
                _add(out, "text", buf)
                return out
        return out

    def flush(self) -> list[Piece]:
        """What is held back when the content ends (an unclosed block stays reasoning)."""
        held, self._held = self._held, ""
        out: list[Piece] = []
        _add(out, "reasoning" if self._state == "think" else "text", held)
        return out


def _add(out: list[Piece], kind: Kind, text: str) -> None:
    if text:
        out.append((kind, text))


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
