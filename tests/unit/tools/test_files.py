"""read_file, list_dir, write_file and edit_file on a real directory."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from lsp_agent.tools.base import ToolContext, ToolError
from lsp_agent.tools.files import edit_file, list_dir, read_file, write_file
from lsp_agent.workspace import MAX_READ_BYTES, DiskWorkspace, Document
from tests.unit.tools.helpers import MakeCtx, run, write

# --- read_file --------------------------------------------------------------------------


async def test_read_file_numbers_lines(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.py": "one\ntwo\r\nthree"})
    result = await run(read_file, ctx, path="a.py")
    assert result.output == "     1\tone\n     2\ttwo\r\n     3\tthree"  # mixed: kept as is
    write(root, {"b.py": "one\r\ntwo\r\n"})
    assert (await run(read_file, ctx, path="b.py")).output == "     1\tone\n     2\ttwo"


async def test_read_file_window_says_how_to_continue(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.txt": "".join(f"line {i}\n" for i in range(1, 11))})
    result = await run(read_file, ctx, path="a.txt", offset=3, limit=2)
    assert result.output == (
        "     3\tline 3\n     4\tline 4\n\n(Showing lines 3-4 of 10. Use offset=5 to read more.)"
    )
    result = await run(read_file, ctx, path="a.txt", offset=9)
    assert result.output == "     9\tline 9\n    10\tline 10"
    assert read_file.title(read_file.parse('{"path": "a.txt"}')) == "Read a.txt"
    with pytest.raises(ToolError, match=r"offset 11 is past the end of a\.txt, which has 10"):
        await run(read_file, ctx, path="a.txt", offset=11)


async def test_read_file_fits_the_output_limit(make_ctx: MakeCtx, root: Path) -> None:
    write(root, {"a.txt": "".join(f"{'x' * 50} {i}\n" for i in range(1, 101))})
    result = await run(read_file, make_ctx(tools={"outputLimit": 1000}), path="a.txt")
    assert len(result.output) <= 1000
    found = re.search(
        r"\(Showing lines 1-(\d+) of 100\. Use offset=(\d+) to read more\.\)$", result.output
    )
    assert found is not None
    last = int(found[1])
    assert int(found[2]) == last + 1
    assert f"{last:>6}\t{'x' * 50} {last}\n" in result.output


async def test_read_file_clips_long_lines(ctx: ToolContext, root: Path) -> None:
    write(root, {"min.js": "x" * 2500 + "\nok\n"})
    result = await run(read_file, ctx, path="min.js")
    assert "x" * 2000 + "... [500 more characters on this line]\n     2\tok" in result.output


async def test_read_file_errors(ctx: ToolContext, root: Path) -> None:
    write(root, {"src/config.py": "", "img.png": b"\x89PNG\0\0", "empty.txt": ""})
    with pytest.raises(ToolError, match=r"not found: src/confg.py. Did you mean: src/config.py"):
        await run(read_file, ctx, path="src/confg.py")
    with pytest.raises(ToolError, match="binary"):
        await run(read_file, ctx, path="img.png")
    with pytest.raises(ToolError, match="list_dir"):
        await run(read_file, ctx, path="src")
    with pytest.raises(ToolError, match="outside the workspace"):
        await run(read_file, ctx, path="/etc/passwd")
    assert (await run(read_file, ctx, path="empty.txt")).output == "(empty.txt is empty.)"


async def test_read_file_pages_through_large_files(ctx: ToolContext, root: Path) -> None:
    line = "y" * 99 + "\n"
    (root / "big.log").write_text(line * (MAX_READ_BYTES // len(line) + 10))
    result = await run(read_file, ctx, path="big.log", offset=50_000, limit=2)
    assert result.output == (
        f" 50000\t{line[:-1]}\n 50001\t{line[:-1]}\n\n"
        "(Showing lines 50000-50001. Use offset=50002 to read more.)"
    )


# --- list_dir ---------------------------------------------------------------------------


async def test_list_dir(ctx: ToolContext, root: Path) -> None:
    write(root, {"b.py": "", "a/x.py": "", ".env": ""})
    assert (await run(list_dir, ctx)).output == ".env\na/\nb.py"
    assert (await run(list_dir, ctx, path="a")).output == "x.py"
    (root / "e").mkdir()
    assert (await run(list_dir, ctx, path="e")).output == "(e is empty.)"
    with pytest.raises(ToolError, match="does not exist"):
        await run(list_dir, ctx, path="nope")


# --- write_file -------------------------------------------------------------------------


async def test_write_file_creates(ctx: ToolContext, root: Path) -> None:
    result = await run(write_file, ctx, path="pkg/new.py", content="a = 1\n")
    assert (root / "pkg" / "new.py").read_text() == "a = 1\n"
    assert result.output == "Created pkg/new.py (1 lines)."
    assert result.edited == [root / "pkg" / "new.py"]
    assert result.diff is not None
    assert result.diff.old_text is None
    assert result.diff.path == str(root / "pkg" / "new.py")
    assert result.diff.unified == "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+a = 1\n"


async def test_write_file_overwrites_keeping_mode_and_endings(ctx: ToolContext, root: Path) -> None:
    write(root, {"run.sh": "echo a\r\n"})
    os.chmod(root / "run.sh", 0o755)
    result = await run(write_file, ctx, path="run.sh", content="echo b\necho c\n")
    assert (root / "run.sh").read_bytes() == b"echo b\r\necho c\r\n"
    assert stat.S_IMODE(os.stat(root / "run.sh").st_mode) == 0o755
    assert result.diff is not None
    assert (result.diff.old_text, result.diff.new_text) == ("echo a\n", "echo b\necho c\n")
    same = await run(write_file, ctx, path="run.sh", content="echo b\necho c\n")
    assert same.output == "run.sh already has this content; nothing changed."
    assert same.diff is None and same.edited == []


async def test_write_file_keeps_crlf_of_new_content(ctx: ToolContext, root: Path) -> None:
    await run(write_file, ctx, path="w.bat", content="a\r\nb\r\n")
    assert (root / "w.bat").read_bytes() == b"a\r\nb\r\n"


async def test_write_file_preview_does_not_write(ctx: ToolContext, root: Path) -> None:
    assert write_file.preview is not None
    diff = await write_file.preview(write_file.parse('{"path": "p.txt", "content": "x"}'), ctx)
    assert diff is not None and diff.new_text == "x"
    assert not (root / "p.txt").exists()


async def test_write_file_refuses_outside_and_directories(ctx: ToolContext, root: Path) -> None:
    (root / "d").mkdir()
    with pytest.raises(ToolError, match="outside the workspace"):
        await run(write_file, ctx, path="../escape.txt", content="x")
    with pytest.raises(ToolError, match="directory"):
        await run(write_file, ctx, path="d", content="x")
    assert not (root.parent / "escape.txt").exists()


# --- edit_file --------------------------------------------------------------------------


async def test_edit_file_replaces_once(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n"})
    result = await run(edit_file, ctx, path="a.py", old_string="return 2", new_string="return 3")
    assert (root / "a.py").read_text() == "def f():\n    return 1\n\n\ndef g():\n    return 3\n"
    assert result.output == (
        "Edited a.py: replaced 1 occurrence at line 6.\nLines 4-6 now read:\n"
        "     4\t\n     5\tdef g():\n     6\t    return 3"
    )
    assert result.edited == [root / "a.py"]
    assert result.diff is not None
    assert result.diff.unified.startswith("--- a/a.py\n+++ b/a.py\n@@ -3,4 +3,4 @@")
    assert "-    return 2\n+    return 3\n" in result.diff.unified
    assert edit_file.title(edit_file.parse(_args("a.py", "x", "y"))) == "Edit a.py"


def _args(path: str, old: str, new: str) -> str:
    return json.dumps({"path": path, "old_string": old, "new_string": new})


async def test_edit_file_preserves_crlf_and_mode(ctx: ToolContext, root: Path) -> None:
    write(root, {"w.txt": "alpha\r\nbeta\r\ngamma\r\n"})
    os.chmod(root / "w.txt", 0o600)
    await run(edit_file, ctx, path="w.txt", old_string="beta\ngamma", new_string="BETA\r\nG")
    assert (root / "w.txt").read_bytes() == b"alpha\r\nBETA\r\nG\r\n"
    assert stat.S_IMODE(os.stat(root / "w.txt").st_mode) == 0o600
    assert os.listdir(root) == ["w.txt"]  # no temp files left


async def test_edit_file_no_match_points_at_near_match(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.py": "x = 1\nif x:\n        print( x )\n"})
    with pytest.raises(ToolError) as err:
        await run(edit_file, ctx, path="a.py", old_string="if x:\n    print(x)", new_string="")
    message = str(err.value)
    assert "not found in a.py. Read the file again" in message
    assert "differs only in whitespace starts at line 2" in message
    assert "     3\t        print( x )" in message
    with pytest.raises(ToolError, match="line-number prefixes"):
        await run(edit_file, ctx, path="a.py", old_string="     1\tx = 1", new_string="x = 2")
    with pytest.raises(ToolError) as err:
        await run(edit_file, ctx, path="a.py", old_string="y = 2", new_string="y = 3")
    assert "whitespace starts" not in str(err.value)


async def test_edit_file_several_matches(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.py": "x = 1\ny = 1\nx = 1\n"})
    with pytest.raises(ToolError, match=r"occurs 2 times in a.py \(at lines 1, 3\).*replace_all"):
        await run(edit_file, ctx, path="a.py", old_string="x = 1", new_string="x = 2")
    assert (root / "a.py").read_text() == "x = 1\ny = 1\nx = 1\n"
    result = await run(
        edit_file, ctx, path="a.py", old_string="x = 1", new_string="x = 2", replace_all=True
    )
    assert result.output == "Edited a.py: replaced 2 occurrence(s) at lines 1, 3."
    assert (root / "a.py").read_text() == "x = 2\ny = 1\nx = 2\n"


async def test_edit_file_argument_errors(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.py": "x = 1\n", "empty.py": ""})
    with pytest.raises(ToolError, match="the same"):
        await run(edit_file, ctx, path="a.py", old_string="x", new_string="x")
    with pytest.raises(ToolError, match="write_file"):
        await run(edit_file, ctx, path="a.py", old_string="", new_string="y")
    with pytest.raises(ToolError, match=r"File not found: b\.py"):
        await run(edit_file, ctx, path="b.py", old_string="x", new_string="y")
    await run(edit_file, ctx, path="empty.py", old_string="", new_string="filled\n")
    assert (root / "empty.py").read_text() == "filled\n"
    result = await run(edit_file, ctx, path="new/c.py", old_string="", new_string="c = 3\n")
    assert result.diff is not None and result.diff.old_text is None
    assert (root / "new" / "c.py").read_text() == "c = 3\n"


async def test_edit_file_preview_matches_run(ctx: ToolContext, root: Path) -> None:
    write(root, {"a.py": "x = 1\n"})
    args = edit_file.parse(_args("a.py", "x = 1", "x = 2"))
    assert edit_file.preview is not None
    preview = await edit_file.preview(args, ctx)
    assert (root / "a.py").read_text() == "x = 1\n"
    result = await edit_file.run(args, ctx)
    assert preview == result.diff
    with pytest.raises(ToolError, match="not found"):  # the same errors as run
        await edit_file.preview(args, ctx)


class _Meddling(DiskWorkspace):
    """Someone edits the file right after the tool reads it."""

    async def read(self, path: Path) -> Document:
        doc = await super().read(path)
        write(path.parent, {path.name: "changed behind our back\n"})
        return doc


async def test_edit_file_stale_document(make_ctx: MakeCtx, root: Path) -> None:
    write(root, {"a.py": "x = 1\n"})
    ctx = make_ctx(_Meddling([root]))
    with pytest.raises(ToolError, match="changed on disk since it was read; read it again"):
        await run(edit_file, ctx, path="a.py", old_string="x = 1", new_string="x = 2")
    assert (root / "a.py").read_text() == "changed behind our back\n"
