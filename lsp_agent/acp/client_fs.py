"""The workspace view of an ACP session: reads and writes through the client's
`fs/read_text_file` / `fs/write_text_file` when it offers them (so the agent sees unsaved
buffers and the editor reviews the edit), else the disk. Paths are checked by the disk
workspace first either way; listing, search and delete stay on disk."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from acp import RequestError

from lsp_agent.workspace import (
    MAX_READ_BYTES,
    DiskWorkspace,
    Document,
    StaleDocument,
    WorkspaceError,
    encode_text,
)

log = logging.getLogger(__name__)


def normalize(text: str) -> tuple[str, str]:
    """(text with "\n" endings, eol), as the disk workspace reads files."""
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\n"):
        return text.replace("\r\n", "\n"), "\r\n"
    return text, "\n"


def session_bounds(root: Path | None, cwd: Path) -> tuple[list[Path], Path]:
    """The roots and working directory of an ACP session. ACP names one folder, `cwd`: it
    bounds a new session and is where it starts. A session loaded or resumed with a `cwd`
    that contains its stored one (begun in a subfolder, e.g. by the language server) is
    bounded by the folder given and still starts at its own."""
    if root is not None and (cwd == root or root in cwd.parents):
        return [root], cwd
    return [cwd], cwd


class ClientWorkspace(DiskWorkspace):
    def __init__(
        self,
        roots: Sequence[Path],
        conn: Any,
        session_id: str,
        *,
        read: bool,
        write: bool,
        views: dict[Path, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        super().__init__(roots, cwd=cwd)
        self._conn, self._session_id = conn, session_id
        self._client_reads, self._client_writes = read, write
        # Embedded resources of the prompt: the editor's text of those files.
        self.views = dict(views or {})

    async def read(self, path: Path) -> Document:
        if path in self.views:
            text, eol = normalize(self.views[path])
            return Document(path=path, text=text, eol=eol)
        if not self._client_reads:
            return await super().read(path)
        try:
            answer = await self._conn.read_text_file(session_id=self._session_id, path=str(path))
        except RequestError as e:  # e.g. no such file: the disk says what is there
            log.debug("fs/read_text_file %s failed (%s): reading the disk", path, e)
            return await super().read(path)
        if len(answer.content) > MAX_READ_BYTES:
            raise WorkspaceError(f"{self.display(path)} is too large to read whole.")
        text, eol = normalize(answer.content)
        return Document(path=path, text=text, eol=eol)

    async def write(self, before: Document, new_text: str, *, label: str) -> None:
        if not self._client_writes:
            await super().write(before, new_text, label=label)
            self.views.pop(before.path, None)
            return None
        current = await self.read(before.path)
        if current.exists != before.exists or current.text != before.text:
            raise StaleDocument(
                f"{self.display(before.path)} changed in the editor since you read it; "
                "read it again and redo the edit"
            )
        content = encode_text(new_text, before.eol).decode("utf-8")
        try:
            await self._conn.write_text_file(
                session_id=self._session_id, path=str(before.path), content=content
            )
        except RequestError as e:
            raise WorkspaceError(
                f"the editor refused to write {self.display(before.path)}: {e}"
            ) from None
        if before.path in self.views:
            self.views[before.path] = content
