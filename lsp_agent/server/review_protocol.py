"""`agent/review`: the server asks the editor's user to review an agent edit before it is
written (setting `editor.review` "hunks" or "file"; client capability `review`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lsp_agent.server.wire import Wire

REVIEW = "agent/review"
ReviewMode = Literal["auto", "hunks", "file"]  # config.ReviewMode, on the wire
MAX_HUNK_IDS = 10_000  # an answer naming more ids than this is garbage


class ReviewHunk(Wire):
    id: int = Field(description="0, 1, 2 … in file order.")
    original_start: int = Field(description="0-based first line in `original`.")
    original_lines: int = Field(description="Lines replaced (0: an insertion).")
    proposed_start: int = Field(description="0-based first line in `proposed`.")
    proposed_lines: int = Field(description="Lines put in their place (0: a deletion).")
    original_text: str
    proposed_text: str


class ReviewParams(Wire):
    session_id: str
    tool_call_id: str
    title: str
    uri: str
    path: str = Field(description="Workspace-relative, for display.")
    version: int | None = Field(
        description="The open buffer's version the review is based on; null: not open."
    )
    granularity: Literal["hunks", "file"]
    original: str = Field(description='The whole current text, "\\n" line endings.')
    proposed: str = Field(description="The whole text the agent proposes.")
    hunks: list[ReviewHunk]

    def dump(self) -> dict[str, object]:  # version: null means "not open"; keep it
        out = super().dump()
        out.setdefault("version", None)
        return out


class ReviewResult(Wire):
    """Every hunk id not in `accepted` is rejected ("file": all or none)."""

    accepted: list[int] = Field(max_length=MAX_HUNK_IDS)
    rejected: list[int] = Field(default_factory=list, max_length=MAX_HUNK_IDS)
    closed: bool = Field(
        False, description="The user closed the review without deciding: all rejected."
    )
