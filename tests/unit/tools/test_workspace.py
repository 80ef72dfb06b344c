from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lsp_agent.workspace import (
    MAX_READ_BYTES,
    DiskWorkspace,
    Document,
    FileTooLarge,
    PathOutsideWorkspace,
    StaleDocument,
    WorkspaceError,
)
from tests.unit.tools.helpers import write

# --- resolve ---------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("secret")
    return path


def test_resolve_relative_and_absolute_inside(ws: DiskWorkspace, root: Path) -> None:
    (root / "src").mkdir()
    assert ws.resolve("src/a.py") == root / "src" / "a.py"
    assert ws.resolve(str(root / "src")) == root / "src"
    assert ws.resolve(".") == root
    assert ws.resolve("src/../b.py") == root / "b.py"


@pytest.mark.parametrize("path", ["..", "../x", "src/../../x", "a/b/../../../x"])
def test_resolve_refuses_dotdot_escapes(ws: DiskWorkspace, path: str) -> None:
    with pytest.raises(PathOutsideWorkspace, match="outside the workspace"):
        ws.resolve(path)


def test_resolve_refuses_absolute_outside(ws: DiskWorkspace, outside: Path) -> None:
    with pytest.raises(PathOutsideWorkspace) as err:
        ws.resolve(str(outside / "secret.txt"))
    assert str(outside / "secret.txt") in str(err.value)
    assert str(ws.roots[0]) in str(err.value)  # the message names the roots


def test_resolve_refuses_symlinks_leading_outside(
    ws: DiskWorkspace, root: Path, outside: Path
) -> None:
    (root / "file_link").symlink_to(outside / "secret.txt")
    (root / "dir_link").symlink_to(outside)
    (root / "dangling").symlink_to(outside / "new.txt")
    for path in ["file_link", "dir_link", "dir_link/secret.txt", "dir_link/new/x", "dangling"]:
        with pytest.raises(PathOutsideWorkspace, match="through a symlink"):
            ws.resolve(path)


def test_resolve_follows_symlinks_inside(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"real/a.txt": "a"})
    (root / "alias").symlink_to(root / "real")
    assert ws.resolve("alias/a.txt") == root / "real" / "a.txt"


def test_resolve_nonexistent_uses_nearest_parent(ws: DiskWorkspace, root: Path) -> None:
    assert ws.resolve("new/dir/file.txt") == root / "new" / "dir" / "file.txt"


@pytest.mark.parametrize("path", ["", "   ", "a\0b", "\ud800.txt"])
def test_resolve_refuses_invalid(ws: DiskWorkspace, path: str) -> None:
    with pytest.raises(PathOutsideWorkspace):
        ws.resolve(path)


def test_resolve_refuses_symlink_loops(ws: DiskWorkspace, root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(PathOutsideWorkspace, match="loop"):
        ws.resolve("loop/x")


def test_resolve_odd_unicode(ws: DiskWorkspace, root: Path) -> None:
    for name in ["ñandú.txt", "日本語/ファイル", "\u202eevil.txt", "e\u0301.txt", "tab\tname"]:
        assert ws.resolve(name) == root / name


def test_multiple_roots(tmp_path: Path, root: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    ws = DiskWorkspace([root, other])
    assert ws.resolve(str(other / "x.py")) == other / "x.py"
    assert ws.display(root / "a" / "b.py") == "a/b.py"
    assert ws.display(root) == "."
    assert ws.display(other / "x.py") == str(other / "x.py")  # resolvable back


def test_roots_are_realpaths(tmp_path: Path, root: Path) -> None:
    (tmp_path / "alias").symlink_to(root)
    ws = DiskWorkspace([tmp_path / "alias"])
    assert ws.roots == (root,)
    assert ws.resolve(str(tmp_path / "alias" / "a.py")) == root / "a.py"


# --- read ---------------------------------------------------------------------------


async def test_read_missing_file(ws: DiskWorkspace, root: Path) -> None:
    doc = await ws.read(root / "nope.txt")
    assert doc == Document(path=root / "nope.txt", text="", exists=False)


async def test_read_directory_binary_and_undecodable(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"bin": b"abc\0def", "latin": "café".encode("latin-1")})
    (root / "d").mkdir()
    with pytest.raises(WorkspaceError, match="directory"):
        await ws.read(root / "d")
    with pytest.raises(WorkspaceError, match="binary"):
        await ws.read(root / "bin")
    with pytest.raises(WorkspaceError, match="binary"):
        await ws.read(root / "latin")


async def test_read_too_large_suggests_paging(ws: DiskWorkspace, root: Path) -> None:
    (root / "big.txt").touch()
    os.truncate(root / "big.txt", MAX_READ_BYTES + 1)  # sparse: instant
    with pytest.raises(FileTooLarge, match=r"offset/limit.*grep"):
        await ws.read(root / "big.txt")


async def test_crlf_normalized_and_restored(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"w.txt": "a\r\nb\r\n"})
    doc = await ws.read(root / "w.txt")
    assert (doc.text, doc.eol) == ("a\nb\n", "\r\n")
    await ws.write(doc, "a\nB\nc\n", label="t")
    assert (root / "w.txt").read_bytes() == b"a\r\nB\r\nc\r\n"


async def test_mixed_endings_round_trip_exactly(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"m.txt": "a\r\nb\nc\r\n"})
    doc = await ws.read(root / "m.txt")
    assert doc.eol == "\n"
    await ws.write(doc, doc.text.replace("b", "B"), label="t")
    assert (root / "m.txt").read_bytes() == b"a\r\nB\nc\r\n"


# --- write ---------------------------------------------------------------------------


async def test_write_keeps_mode_and_leaves_no_temp_files(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"run.sh": "echo hi\n"})
    os.chmod(root / "run.sh", 0o751)
    doc = await ws.read(root / "run.sh")
    await ws.write(doc, "echo bye\n", label="t")
    assert stat.S_IMODE(os.stat(root / "run.sh").st_mode) == 0o751
    assert (root / "run.sh").read_text() == "echo bye\n"
    assert sorted(os.listdir(root)) == ["run.sh"]


async def test_write_new_file_creates_parents_with_umask_mode(
    ws: DiskWorkspace, root: Path
) -> None:
    path = root / "a" / "b" / "new.txt"
    doc = await ws.read(path)
    await ws.write(doc, "hi\n", label="t")
    assert path.read_text() == "hi\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask
    assert os.listdir(path.parent) == ["new.txt"]


async def test_write_refuses_stale_documents(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"a.txt": "one\n"})
    doc = await ws.read(root / "a.txt")
    (root / "a.txt").write_text("two\n")  # same size, different text
    with pytest.raises(StaleDocument, match="changed"):
        await ws.write(doc, "three\n", label="t")
    (root / "a.txt").unlink()
    with pytest.raises(StaleDocument, match="deleted"):
        await ws.write(doc, "three\n", label="t")
    missing = await ws.read(root / "b.txt")
    (root / "b.txt").write_text("someone else\n")
    with pytest.raises(StaleDocument, match="created"):
        await ws.write(missing, "mine\n", label="t")
    assert (root / "b.txt").read_text() == "someone else\n"


async def test_write_through_symlink_keeps_the_link(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"real.txt": "a\n"})
    (root / "link.txt").symlink_to("real.txt")
    doc = await ws.read(ws.resolve("link.txt"))
    await ws.write(doc, "b\n", label="t")
    assert (root / "link.txt").is_symlink()
    assert (root / "real.txt").read_text() == "b\n"


# --- delete and list_dir ------------------------------------------------------------------


async def test_delete(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"a.txt": "a", "d/b.txt": "b"})
    await ws.delete(root / "a.txt")
    assert not (root / "a.txt").exists()
    with pytest.raises(WorkspaceError, match="does not exist"):
        await ws.delete(root / "a.txt")
    with pytest.raises(WorkspaceError, match="directory"):
        await ws.delete(root / "d")
    with pytest.raises(WorkspaceError, match="root"):
        await ws.delete(root)


async def test_list_dir(ws: DiskWorkspace, root: Path) -> None:
    write(root, {"b.txt": "bb", "a/x": "", ".hidden": "h"})
    entries = await ws.list_dir(root)
    assert [(e.name, e.is_dir, e.size) for e in entries] == [
        (".hidden", False, 1),
        ("a", True, None),
        ("b.txt", False, 2),
    ]
    with pytest.raises(WorkspaceError, match="does not exist"):
        await ws.list_dir(root / "nope")
    with pytest.raises(WorkspaceError, match="read_file"):
        await ws.list_dir(root / "b.txt")


async def test_before_shell_is_silent(ws: DiskWorkspace) -> None:
    assert await ws.before_shell() is None
