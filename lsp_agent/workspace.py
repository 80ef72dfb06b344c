"""The workspace interface the tools use, path safety, and the disk implementation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class WorkspaceError(Exception):
    """A file problem the model can act on; the message says what to do."""


class PathOutsideWorkspace(WorkspaceError):
    pass


class StaleDocument(WorkspaceError):
    """The document changed between reading and writing (the editor refused the edit)."""


@dataclass(frozen=True)
class Document:
    path: Path
    text: str  # line endings normalized to "\n"
    eol: str = "\n"  # what the file uses, restored on write
    version: int | None = None  # the editor's buffer version; None for disk
    exists: bool = True


@dataclass(frozen=True)
class DirEntry:
    name: str
    is_dir: bool
    size: int | None = None


@dataclass(frozen=True)
class GrepMatch:
    path: str  # workspace-relative, "/" separated
    line: int  # 1-based
    text: str
    is_context: bool = False


class Workspace(Protocol):
    """What tools may do to files. Front ends supply one: disk, or open-buffer aware."""

    @property
    def roots(self) -> tuple[Path, ...]: ...

    def resolve(self, path: str) -> Path:
        """An absolute, symlink-free path inside a root; raises PathOutsideWorkspace."""
        ...

    def display(self, path: Path) -> str:
        """A short, root-relative form for titles and messages."""
        ...

    async def read(self, path: Path) -> Document:
        """The current text (an open buffer wins over disk); a missing file has exists=False."""
        ...

    async def write(self, before: Document, new_text: str, *, label: str) -> None:
        """Replace the text of `before` with new_text ("\n" endings; `before.eol` is restored).

        Raises StaleDocument when the text changed since `before` was read.
        """
        ...

    async def delete(self, path: Path) -> None: ...

    async def list_dir(self, path: Path) -> list[DirEntry]: ...

    async def glob(self, pattern: str, base: Path, limit: int) -> tuple[list[str], bool]:
        """Workspace-relative paths matching pattern, gitignore respected; (paths, truncated)."""
        ...

    async def grep(
        self,
        pattern: str,
        base: Path,
        *,
        glob: str | None,
        ignore_case: bool,
        context: int,
        limit: int,
    ) -> tuple[list[GrepMatch], bool]:
        """Regex search, gitignore respected; (matches, truncated). Bad regex: WorkspaceError."""
        ...

    async def before_shell(self) -> str | None:
        """Make agent edits visible to a shell (save buffers); returns a note for the model."""
        ...
