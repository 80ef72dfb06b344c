"""The workspace as the editor sees it: open buffers win over disk, and edits to them go
through versioned `workspace/applyEdit`, so the user's unsaved text is never overwritten."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lsp_agent.server.review import hunks
from lsp_agent.server.uris import NotAFileUri, path_to_uri, uri_to_path
from lsp_agent.workspace import EDIT_CALL, DiskWorkspace, Document, StaleDocument, Written

if TYPE_CHECKING:
    from lsp_agent.server.reviewer import Reviewer

ApplyEdit = Callable[[dict[str, Any]], Awaitable[tuple[bool, str | None]]]
SaveDocuments = Callable[[list[str]], Awaitable[list[str]]]
LateEdit = Callable[[str], None]  # a message for the user: an edit was applied late

log = logging.getLogger(__name__)


class EditTimeout(Exception):
    """The editor did not answer a workspace/applyEdit in time; the request was withdrawn
    ($/cancelRequest) but may still be answered: `late` resolves to whether it was applied."""

    def __init__(self, seconds: float, late: asyncio.Future[bool]) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds
        self.late = late


class OpenDocument(Protocol):
    uri: str
    source: str
    version: int | None


class EditorWorkspace(DiskWorkspace):
    def __init__(
        self,
        roots: Sequence[Path],
        documents: Callable[[], list[OpenDocument]],
        apply_edit: ApplyEdit,
        *,
        save: SaveDocuments | None,
        position_encoding: str = "utf-16",
        on_late: LateEdit | None = None,
        cwd: Path | None = None,
        reviewer: Reviewer | None = None,
    ) -> None:
        super().__init__(roots, cwd=cwd)
        self._documents = documents
        self._apply_edit = apply_edit
        self._save = save
        self._encoding = position_encoding
        self._on_late = on_late
        self.reviewer = reviewer  # editor.review "hunks" / "file": edits are reviewed first
        self.edited_buffers: dict[str, Path] = {}  # uri -> path, edited through the editor
        # Edits the editor has not answered (timed out): no other edit goes to that buffer
        # until it does, so two edits never race for one version.
        self._unanswered: dict[str, asyncio.Future[bool]] = {}

    def open_document(self, path: Path) -> OpenDocument | None:
        for doc in self._documents():
            try:
                if uri_to_path(doc.uri) == path:
                    return doc
            except NotAFileUri:
                continue
        return None

    async def read(self, path: Path) -> Document:
        doc = self.open_document(path)
        if doc is None:
            return await super().read(path)
        text, eol = _normalize(doc.source)
        return Document(path=path, text=text, eol=eol, version=doc.version, exists=True)

    @property
    def reviews_edits(self) -> bool:
        return self.reviewer is not None and self.reviewer.interactive

    async def write(self, before: Document, new_text: str, *, label: str) -> Written | None:
        call = EDIT_CALL.get()
        if self.reviewer is None or call is None or new_text == before.text:
            await self.write_text(before, new_text, label=label)
            return None
        return await self.reviewer.write(self, before, new_text, label=label, call=call)

    def check_fresh(self, before: Document) -> OpenDocument | None:
        """The open buffer `before` was read from (None: not open); StaleDocument if it
        changed, or was closed, since."""
        doc = self.open_document(before.path)
        if doc is None:
            if before.version is not None:
                raise StaleDocument(
                    f"{self.display(before.path)} was closed in the editor since you read it; "
                    "read it again"
                )
            return None
        current = _normalize(doc.source)[0]
        if (before.version is not None and doc.version != before.version) or current != before.text:
            raise StaleDocument(
                f"{self.display(before.path)} changed in the editor since you read it; "
                "read it again and redo the edit"
            )
        return doc

    def current_text(self, path: Path) -> str | None:
        doc = self.open_document(path)
        return _normalize(doc.source)[0] if doc is not None else None

    async def write_text(
        self,
        before: Document,
        new_text: str,
        *,
        label: str,
        annotate: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
    ) -> None:
        """The plain write: the buffer through a versioned workspace/applyEdit, else the
        disk. `annotate` marks the edits (change annotations) and returns the annotations."""
        doc = self.check_fresh(before)
        if doc is None:
            await super().write(before, new_text, label=label)
            return
        current, eol = _normalize(doc.source)
        edits = line_edits(current, new_text, eol, self._encoding)
        edit: dict[str, Any] = {
            "documentChanges": [
                {"textDocument": {"uri": doc.uri, "version": doc.version}, "edits": edits}
            ]
        }
        if annotate is not None:
            edit["changeAnnotations"] = annotate(edits)
        name = self.display(before.path)
        pending = self._unanswered.get(doc.uri)
        if pending is not None and not pending.done():
            raise StaleDocument(
                f"An earlier edit to {name} is still unanswered by the editor; read the file "
                "again later and redo the edit if it is not there."
            )
        try:
            applied, reason = await self._apply_edit({"edit": edit, "label": label})
        except EditTimeout as e:
            self._timed_out(e, doc.uri, before, new_text)
            return
        if not applied:
            why = f" ({reason})" if reason else ""
            raise StaleDocument(
                f"The editor refused the edit to {self.display(before.path)}{why}: the file "
                "changed in the editor. Read it again and redo the edit."
            )
        self.edited_buffers[doc.uri] = before.path

    def _timed_out(self, e: EditTimeout, uri: str, before: Document, new_text: str) -> None:
        """The truth after an unanswered edit. One WorkspaceEdit is applied whole or not at
        all, so the buffer holds the old text, the new text, or the user's own change."""
        name = self.display(before.path)
        doc = self.open_document(before.path)
        current = _normalize(doc.source)[0] if doc is not None else None
        if current == new_text:  # applied, only the answer is missing: it is an edit
            self.edited_buffers[uri] = before.path
            return
        self._unanswered[uri] = e.late

        def answered(late: asyncio.Future[bool]) -> None:
            self._unanswered.pop(uri, None)
            if late.cancelled() or late.exception() is not None or not late.result():
                return
            # Applied after the model was told it was not: the buffer is the truth (the
            # next read shows the edit); record it so it is saved before a shell, and tell
            # the user, since the agent's account of that turn is now wrong.
            self.edited_buffers[uri] = before.path
            message = (
                f"The editor applied the agent's edit to {name} after lsp-agent had stopped "
                f"waiting for it ({e.seconds:g} s); the agent was told it failed."
            )
            log.warning("%s", message)
            if self._on_late is not None:
                self._on_late(message)

        e.late.add_done_callback(answered)
        unchanged = "nothing was changed" if current == before.text else "the buffer changed"
        raise StaleDocument(
            f"The editor did not answer the edit to {name} within {e.seconds:g} s "
            f"(setting editor.applyEditTimeoutS); it was withdrawn and {unchanged}. If the "
            "editor applies it anyway it applies the whole edit: read the file again before "
            "redoing it."
        )

    async def before_shell(self) -> str | None:
        """Agent edits in open buffers are unsaved: save them, or say so."""
        uris = [uri for uri, path in self.edited_buffers.items() if self.open_document(path)]
        if not uris:
            return None
        if self._save is not None:
            saved = set(await self._save(uris))
            for uri in saved:  # on disk now; the agent's next edit adds it again
                self.edited_buffers.pop(uri, None)
            uris = [u for u in uris if u not in saved]
            if not uris:
                return None
        names = ", ".join(self.display(self.edited_buffers[u]) for u in uris)
        return (
            f"Note: your edits to {names} are in unsaved editor buffers; the shell sees the "
            "files as they are on disk."
        )


def _normalize(text: str) -> tuple[str, str]:
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        return text.replace("\r\n", "\n"), "\r\n"
    return text, "\n"


def line_edits(old: str, new: str, eol: str, encoding: str) -> list[dict[str, Any]]:
    """Minimal whole-line TextEdits turning `old` into `new` (both with "\\n" endings): one
    per review hunk, in hunk order, so a hunk's annotation marks its own edit.

    Whole lines keep positions independent of the position encoding, except at the end
    of a document without a final newline.
    """
    a = old.splitlines(keepends=True)
    return [
        {
            "range": {
                "start": _line_start(a, h.original_start, encoding),
                "end": _line_start(a, h.original_start + h.original_lines, encoding),
            },
            "newText": h.proposed_text.replace("\n", eol),
        }
        for h in hunks(old, new)
    ]


def _line_start(lines: list[str], index: int, encoding: str) -> dict[str, int]:
    """The start of line `index`; past the last line of a text without a final newline,
    the end of that last line (in the client's position encoding)."""
    if index < len(lines) or not lines or lines[-1].endswith("\n"):
        return {"line": index, "character": 0}
    last = lines[-1]
    return {"line": len(lines) - 1, "character": _units(last, encoding)}


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def uri_for(path: Path) -> str:
    return path_to_uri(path)
