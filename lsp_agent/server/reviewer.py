"""Reviewing agent edits in the editor (setting `editor.review` "hunks" / "file").

A client with the `review` capability gets `agent/review` per edited file, and only the
hunks the user accepts are written; anything but a usable answer rejects everything. A
plain client that declares `workspace.workspaceEdit.changeAnnotationSupport` gets its
buffer edits with a `needsConfirmation` annotation per hunk, and the model is told what
landed, as the buffer shows it afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsp_agent.server import review
from lsp_agent.server.review_protocol import ReviewHunk, ReviewParams
from lsp_agent.server.uris import path_to_uri
from lsp_agent.workspace import Document, EditCall, EditRejected, StaleDocument, Written

if TYPE_CHECKING:
    from lsp_agent.server.editor_workspace import EditorWorkspace

log = logging.getLogger(__name__)

# Sends agent/review and returns the raw answer; raises on an error answer, and
# TimeoutError when the user did not answer in time (the request is withdrawn).
AskReview = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class Reviewer:
    session_id: str
    granularity: review.Granularity
    ask: AskReview | None  # None: a plain client, with change annotations

    @property
    def interactive(self) -> bool:
        return self.ask is not None

    async def write(
        self, ws: EditorWorkspace, before: Document, new_text: str, *, label: str, call: EditCall
    ) -> Written | None:
        if self.ask is None:
            return await self._annotated(ws, before, new_text, label)
        doc = ws.check_fresh(before)  # a stale read is refused before the user is asked
        found = review.hunks(before.text, new_text)
        shown = ws.display(before.path)
        params = ReviewParams(
            session_id=self.session_id,
            tool_call_id=call.tool_call_id,
            title=call.title,
            uri=doc.uri if doc is not None else path_to_uri(before.path),
            path=shown,
            version=doc.version if doc is not None else None,
            granularity=self.granularity,
            original=before.text,
            proposed=new_text,
            hunks=found,
        )
        decision = await self._decision(self.ask, params, found)
        if not decision.accepted:
            raise EditRejected(review.rejected_note(shown, decision, len(found)))
        text = review.compose(before.text, found, decision.accepted)
        try:
            await ws.write_text(before, text, label=label)
        except StaleDocument as e:
            raise StaleDocument(
                f"The user accepted {len(decision.accepted)} of {len(found)} hunks of the edit "
                f"to {shown}, but it was not written: {e}"
            ) from None
        return Written(text, review.report(shown, found, decision.accepted, text))

    async def _decision(
        self, ask: AskReview, params: ReviewParams, found: list[ReviewHunk]
    ) -> review.Decision:
        try:
            raw = await ask(params.dump())
        except TimeoutError:
            return review.Decision(frozenset(), problem="the user did not answer in time")
        except Exception as e:  # an error answer: the editor could not show the review
            log.warning("agent/review failed: %r", e)
            return review.Decision(frozenset(), problem=f"the editor answered with an error: {e}")
        decision = review.decide(raw, found, self.granularity)
        if decision.problem is not None:
            log.warning("unusable agent/review answer (%s): %.500r", decision.problem, raw)
        return decision

    async def _annotated(
        self, ws: EditorWorkspace, before: Document, new_text: str, label: str
    ) -> Written | None:
        """A plain client confirms each hunk itself; the buffer tells what it kept."""
        if ws.open_document(before.path) is None:  # no buffer to confirm in: as today
            await ws.write_text(before, new_text, label=label)
            return None
        found = review.hunks(before.text, new_text)
        shown = ws.display(before.path)
        refused: StaleDocument | None = None
        try:
            await ws.write_text(
                before, new_text, label=label, annotate=hunk_annotations(found, label)
            )
        except StaleDocument as e:
            refused = e
        current = ws.current_text(before.path)
        kept = review.landed(before.text, found, current) if current is not None else None
        if kept is None or (refused is not None and kept):
            if refused is not None:
                raise refused
            raise StaleDocument(
                f"After the edit, {shown} matches neither the edit nor a part of it (the user "
                "changed it meanwhile); read it again before editing it."
            )
        if not kept:
            decision = review.Decision(frozenset())
            raise EditRejected(review.rejected_note(shown, decision, len(found)))
        assert current is not None
        return Written(current, review.report(shown, found, kept, current))


def hunk_annotations(found: list[ReviewHunk], title: str) -> Callable[[list[dict[str, Any]]], Any]:
    """Marks the i-th line edit with hunk i's annotation (line_edits makes one per hunk)."""

    def annotate(edits: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for h, edit in zip(found, edits, strict=True):
            key = f"lsp-agent-hunk-{h.id}"
            edit["annotationId"] = key
            out[key] = {
                "label": review.label(h),
                "needsConfirmation": True,
                "description": title,
            }
        return out

    return annotate


async def ask_review(
    request: Callable[[str, dict[str, Any], str], Awaitable[Any]],
    notify: Callable[[str, dict[str, Any]], None],
    timeout_s: float,
    msg_id: str,
    params: dict[str, Any],
) -> Any:
    """Send agent/review and await the answer; withdrawn ($/cancelRequest) on timeout or
    when the run is cancelled."""
    from lsp_agent.server.review_protocol import REVIEW

    pending = asyncio.ensure_future(request(REVIEW, params, msg_id))
    try:
        async with asyncio.timeout(timeout_s):
            return await asyncio.shield(pending)
    except (TimeoutError, asyncio.CancelledError):
        if not pending.done():
            pending.cancel()
            notify("$/cancelRequest", {"id": msg_id})
        raise
