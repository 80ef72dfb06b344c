"""An inline edit's scope: a run that may change only some lines of one file.

The front end wraps the run's workspace in a `ScopedWorkspace`: every write is checked
against the scope (the edit tools check it already when they plan the change, so an edit
outside the range fails before any permission is asked), deletes are refused, and the tools
that can change files some other way (shell commands, sub-agents, rename, code actions,
MCP tools that are not read-only) are left out of the run.

The lines before and after the range must stay as they are; the range itself may grow or
shrink, so a second edit of the same run is judged against the range as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsp_agent.workspace import (
    DirEntry,
    Document,
    GrepMatch,
    Workspace,
    WorkspaceError,
    Written,
)

if TYPE_CHECKING:
    from lsp_agent.tools.base import ToolSet

SCOPED_TOOLS = frozenset({"edit_file", "write_file"})  # the edits that go through write()
KEPT_KINDS = frozenset({"read", "search", "think"})
LEFT_OUT = frozenset({"task"})  # a sub-agent's tools are not scoped


class OutOfScope(WorkspaceError):
    """An edit outside the inline edit's range; the message gives the allowed range."""


def lines_of(text: str) -> list[str]:
    """The lines of a text; a final newline ends the last line, it starts no new one."""
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


@dataclass(frozen=True)
class EditScope:
    path: Path
    first: int  # 1-based, inclusive, in the text as the run started
    last: int
    before: int  # lines above the range: they must not change
    after: int  # lines below it

    @classmethod
    def of(cls, path: Path, text: str, first: int, last: int, shown: str) -> EditScope:
        """The scope of lines first..last of a file's text; ValueError says what is wrong."""
        count = len(lines_of(text))
        if first < 1 or last < first:
            raise ValueError(f"lines {first}-{last} are not a range of lines")
        if last > max(count, 1):
            raise ValueError(f"{shown} has {count} lines: lines {first}-{last} are past its end")
        return cls(path, first, last, first - 1, max(count - last, 0))

    def describe(self, shown: str) -> str:
        return f"lines {self.first}-{self.last} of {shown}"

    def now(self, text: str) -> tuple[int, int]:
        """The range as it is in this text (first, last; last < first: the range is empty)."""
        return self.before + 1, len(lines_of(text)) - self.after

    def check(self, path: Path, old: str, new: str, shown: str) -> None:
        """Raise OutOfScope unless changing old to new touches only the range."""
        if path != self.path:
            raise OutOfScope(
                f"This is an inline edit: only {self.describe('the selected file')} may change, "
                f"so {shown} was not changed. Edit only inside that range."
            )
        allowed = self.describe(shown)
        o, n = lines_of(old), lines_of(new)
        first, last = self.now(old)
        span = f"lines {first}-{last}" if last >= first else f"no lines (insert at line {first})"
        head = f"This is an inline edit of {allowed}; they are now {span} of {shown}."
        if len(o) < self.before + self.after:
            raise OutOfScope(
                f"{head} The file lost lines outside that range while the agent ran: not "
                "changed. Tell the user."
            )
        outside = _first_change_outside(o, n, self.before, self.after)
        if outside is None and self.after and old.endswith("\n") != new.endswith("\n"):
            outside = len(o)
        if outside is not None:
            raise OutOfScope(
                f"{head} This edit also changes line {outside}, outside that range: not done. "
                "Change only the lines inside it (with edit_file, an old_string within them)."
            )


def _first_change_outside(o: list[str], n: list[str], before: int, after: int) -> int | None:
    """The first line (1-based, of the old text) outside the range that new changes."""
    for i in range(before):
        if i >= len(n) or n[i] != o[i]:
            return i + 1
    if len(n) < before + after:  # the new text cut into the lines below
        return len(o) - after + 1
    for j in range(1, after + 1):
        if n[-j] != o[-j]:
            return len(o) - j + 1
    return None


def scoped_tools(tools: ToolSet) -> tuple[ToolSet, list[str]]:
    """The tools an inline edit runs with, and a note on those it leaves out."""
    from lsp_agent.tools.base import ToolSet

    kept = [
        t
        for t in tools
        if t.name in SCOPED_TOOLS or (t.kind in KEPT_KINDS and t.name not in LEFT_OUT)
    ]
    names = {t.name for t in kept}
    dropped = sorted(t.name for t in tools if t.name not in names)
    notes = []
    if dropped:
        notes.append(f"inline edit: these tools are off for this run: {', '.join(dropped)}")
    return ToolSet(kept), notes


class ScopedWorkspace:
    """A workspace whose writes must stay inside an EditScope; the rest is delegated."""

    def __init__(self, inner: Workspace, scope: EditScope) -> None:
        self.inner = inner
        self.scope = scope

    @property
    def roots(self) -> tuple[Path, ...]:
        return self.inner.roots

    @property
    def cwd(self) -> Path:
        return self.inner.cwd

    def resolve(self, path: str) -> Path:
        return self.inner.resolve(path)

    def display(self, path: Path | str) -> str:
        return self.inner.display(path)

    async def read(self, path: Path) -> Document:
        return await self.inner.read(path)

    def check(self, before: Document, new_text: str) -> None:
        old = before.text if before.exists else ""
        self.scope.check(before.path, old, new_text, self.display(before.path))

    @property
    def reviews_edits(self) -> bool:
        return self.inner.reviews_edits

    async def write(self, before: Document, new_text: str, *, label: str) -> Written | None:
        self.check(before, new_text)  # a reviewed edit lands some of these hunks: still inside
        return await self.inner.write(before, new_text, label=label)

    async def delete(self, path: Path) -> None:
        shown = self.display(path)
        raise OutOfScope(f"This is an inline edit: no file may be deleted, so {shown} was kept.")

    async def list_dir(self, path: Path) -> list[DirEntry]:
        return await self.inner.list_dir(path)

    async def glob(self, pattern: str, base: Path, limit: int) -> tuple[list[str], bool]:
        return await self.inner.glob(pattern, base, limit)

    async def grep(
        self,
        pattern: str,
        base: Path,
        *,
        glob: str | None,
        ignore_case: bool,
        context: int,
        limit: int,
        timeout_s: float | None = None,
    ) -> tuple[list[GrepMatch], bool]:
        return await self.inner.grep(
            pattern,
            base,
            glob=glob,
            ignore_case=ignore_case,
            context=context,
            limit=limit,
            timeout_s=timeout_s,
        )

    async def before_shell(self) -> str | None:
        return await self.inner.before_shell()


def check_scope(workspace: Workspace, before: Document, new_text: str) -> None:
    """For the edit tools' plans: raise OutOfScope early, before permission is asked."""
    if isinstance(workspace, ScopedWorkspace):
        workspace.check(before, new_text)
