"""Applying a language server's WorkspaceEdit (rename, code actions): every file passes
write_file's path rules before any is written, and each file gets its own undo diff."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lsprotocol import types as t

from lsp_agent.config import LangServerSettings
from lsp_agent.langserver.manager import LangServers
from lsp_agent.langserver.tools import Lsp
from lsp_agent.tools.base import ToolContext, ToolError
from lsp_agent.workspace import DiskWorkspace, Document, EditRejected, Written
from tests.unit.tools.helpers import MakeCtx


def _edit(*uris: str) -> t.WorkspaceEdit:
    whole = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=0, character=3))
    return t.WorkspaceEdit(changes={u: [t.TextEdit(range=whole, new_text="new")] for u in uris})


@pytest.fixture
def lsp(root: Path) -> Lsp:
    return Lsp(LangServers({}, LangServerSettings(), (root,)))


@pytest.fixture
def ctx(make_ctx: MakeCtx) -> ToolContext:
    return make_ctx(langserver={"checkAfterEdit": False})  # no server is started


@pytest.fixture
def files(root: Path, tmp_path: Path) -> dict[str, Path]:
    (root / "a.py").write_text("old = 1\n")
    outside = tmp_path / "outside.py"
    outside.write_text("old = 2\n")
    (root / "link.py").symlink_to(outside)
    return {"a": root / "a.py", "outside": outside, "link": root / "link.py"}


async def test_an_edit_of_two_workspace_files_gives_a_diff_for_each(
    lsp: Lsp, ctx: ToolContext, root: Path, files: dict[str, Path]
) -> None:
    (root / "b.py").write_text("old = 3\n")
    plan = await lsp.plan(ctx, _edit(files["a"].as_uri(), (root / "b.py").as_uri()))
    result = await lsp.write(ctx, plan, "rename")
    assert result.output == "Changed 2 file(s): a.py, b.py."
    assert [(d.path, d.old_text, d.new_text) for d in result.diffs] == [
        (str(files["a"]), "old = 1\n", "new = 1\n"),
        (str(root / "b.py"), "old = 3\n", "new = 3\n"),
    ]
    assert (root / "b.py").read_text() == "new = 3\n"


@pytest.mark.parametrize(
    "hostile",
    [
        "outside",  # a file outside every root
        "link",  # a symlink inside that points outside
        "dotdot",  # ../ in the URI
        "scheme",  # not a file: URI
        "missing",  # a file that does not exist
    ],
)
async def test_an_edit_reaching_outside_the_workspace_is_refused_and_changes_nothing(
    lsp: Lsp, ctx: ToolContext, root: Path, files: dict[str, Path], hostile: str
) -> None:
    uri = {
        "outside": files["outside"].as_uri(),
        "link": files["link"].as_uri(),
        "dotdot": "file://" + str(root) + "/../outside.py",
        "scheme": "untitled:a.py",
        "missing": (root / "nope.py").as_uri(),
    }[hostile]
    with pytest.raises(ToolError) as err:
        plan = await lsp.plan(ctx, _edit(files["a"].as_uri(), uri))
        await lsp.write(ctx, plan, "rename")
    assert "outside" in str(err.value) or "not done" in str(err.value)
    assert files["a"].read_text() == "old = 1\n"
    assert files["outside"].read_text() == "old = 2\n"
    assert not (root / "nope.py").exists()


async def test_an_edit_that_also_changes_a_protected_path_is_refused(
    lsp: Lsp, ctx: ToolContext, root: Path, files: dict[str, Path]
) -> None:
    (root / ".vscode").mkdir()
    (root / ".vscode" / "tasks.py").write_text("old = 4\n")
    edit = _edit(files["a"].as_uri(), (root / ".vscode" / "tasks.py").as_uri())
    with pytest.raises(ToolError, match=r"\.vscode/tasks\.py, a protected path"):
        await lsp.plan(ctx, edit, "a.py")
    # the file the call named went through the permission gate itself
    assert (
        len(
            await lsp.plan(ctx, _edit((root / ".vscode" / "tasks.py").as_uri()), ".vscode/tasks.py")
        )
        == 1
    )
    assert (root / ".vscode" / "tasks.py").read_text() == "old = 4\n"


class ReviewingWorkspace(DiskWorkspace):
    """The user accepts the edit of a.py and rejects the one of b.py (as a review would)."""

    async def write(self, before: Document, new_text: str, *, label: str) -> Written | None:
        if before.path.name == "b.py":
            raise EditRejected("The user rejected the edit to b.py (1 hunk); unchanged.")
        await super().write(before, new_text, label=label)
        return Written(new_text, "The user reviewed and accepted the whole edit (1 hunk).")


async def test_a_file_rejected_in_review_is_skipped_and_said(
    lsp: Lsp, ctx: ToolContext, root: Path, files: dict[str, Path]
) -> None:
    (root / "b.py").write_text("old = 3\n")
    ctx = dataclasses.replace(ctx, workspace=ReviewingWorkspace([root]))
    plan = await lsp.plan(ctx, _edit(files["a"].as_uri(), (root / "b.py").as_uri()))
    result = await lsp.write(ctx, plan, "rename")
    assert result.output.startswith("Changed 1 file(s): a.py.")
    assert "The user rejected the edit to b.py" in result.output
    assert "a.py: The user reviewed and accepted the whole edit" in result.output
    assert result.edited == [files["a"]]
    assert (root / "b.py").read_text() == "old = 3\n" and files["a"].read_text() == "new = 1\n"
    only_b = await lsp.plan(ctx, _edit((root / "b.py").as_uri()))
    with pytest.raises(ToolError) as e:
        await lsp.write(ctx, only_b, "rename")
    assert e.value.denied and "rejected the edit to b.py" in str(e.value)
