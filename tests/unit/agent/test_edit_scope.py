"""The inline edit's scope on its own: every write through a ScopedWorkspace is checked
(the backstop for edit paths other than edit_file/write_file), and deletes are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_agent.agent.edit_scope import EditScope, OutOfScope, ScopedWorkspace
from lsp_agent.workspace import DiskWorkspace

TEXT = "a\nb\nc\nd\n"


def scoped(tmp_path: Path) -> tuple[ScopedWorkspace, Path]:
    path = tmp_path / "f.py"
    path.write_text(TEXT)
    other = tmp_path / "g.py"
    other.write_text(TEXT)
    disk = DiskWorkspace([tmp_path])
    return ScopedWorkspace(disk, EditScope.of(disk.resolve("f.py"), TEXT, 2, 3, "f.py")), other


async def test_writes_inside_land_and_the_range_follows_them(tmp_path: Path) -> None:
    ws, _ = scoped(tmp_path)
    doc = await ws.read(ws.resolve("f.py"))
    await ws.write(doc, "a\nB\nB2\nC\nd\n", label="t")
    doc = await ws.read(ws.resolve("f.py"))
    with pytest.raises(OutOfScope, match=r"they are now lines 2-4 of f\.py"):
        await ws.write(doc, "a\nB\nB2\nC\nD\n", label="t")
    await ws.write(doc, "a\nd\n", label="t")  # the whole range deleted
    doc = await ws.read(ws.resolve("f.py"))
    with pytest.raises(OutOfScope, match=r"no lines \(insert at line 2\)"):
        await ws.write(doc, "a\nd\ne\n", label="t")
    await ws.write(doc, "a\nnew\nd\n", label="t")
    assert (tmp_path / "f.py").read_text() == "a\nnew\nd\n"


@pytest.mark.parametrize(
    "new", ["A\nb\nc\nd\n", "a\nb\nc\nD\n", "a\nb\nc\nd", "a\nb\n", "", "a\nb\nc\nd\ne\n"]
)
async def test_a_write_changing_lines_outside_is_refused(tmp_path: Path, new: str) -> None:
    ws, _ = scoped(tmp_path)
    doc = await ws.read(ws.resolve("f.py"))
    with pytest.raises(OutOfScope, match="outside that range: not done"):
        await ws.write(doc, new, label="t")
    assert (tmp_path / "f.py").read_text() == TEXT


async def test_other_files_and_deletes_are_refused(tmp_path: Path) -> None:
    ws, other = scoped(tmp_path)
    doc = await ws.read(ws.resolve("g.py"))
    with pytest.raises(OutOfScope, match=r"so g\.py was not changed"):
        await ws.write(doc, "x\n", label="t")
    with pytest.raises(OutOfScope, match="no file may be deleted"):
        await ws.delete(ws.resolve("f.py"))
    assert other.read_text() == TEXT and (tmp_path / "f.py").exists()


@pytest.mark.parametrize(("first", "last"), [(0, 1), (3, 2), (4, 5)])
def test_a_range_that_is_not_in_the_file_is_refused(first: int, last: int) -> None:
    with pytest.raises(ValueError, match="lines"):
        EditScope.of(Path("/x"), TEXT, first, last, "x")
