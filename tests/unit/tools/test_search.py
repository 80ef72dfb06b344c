"""glob and grep, through both backends (ripgrep and the pure-Python fallback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_agent.tools.base import ToolError
from lsp_agent.tools.search import glob, grep
from lsp_agent.workspace import DiskWorkspace, WorkspaceError
from tests.unit.tools.helpers import MakeCtx, run, write

TREE: dict[str, str | bytes] = {
    ".gitignore": "node_modules/\n*.log\n!keep.log\n/build\ndocs/*.tmp\n",
    "src/app.py": "def main():\n    return 42\n",
    "src/util.py": "import os\nVALUE = 42\n",
    "src/.gitignore": "generated/\n",
    "src/generated/gen.py": "VALUE = 42\n",
    "src/build/kept.py": "VALUE = 42\n",  # "/build" is anchored to the root
    "build/out.py": "VALUE = 42\n",
    "node_modules/pkg/index.js": "VALUE = 42\n",
    "debug.log": "VALUE = 42\n",
    "keep.log": "VALUE = 42\n",
    "docs/a.tmp": "VALUE = 42\n",
    "docs/guide.md": "# Guide\nvalue = 42\n",
    "docs/sub/b.tmp": "VALUE = 42\n",
    ".hidden/conf.py": "VALUE = 42\n",
    ".git/config": "VALUE = 42\n",
    "image.bin": b"VALUE = 42\0\0\0",
}

VISIBLE = [
    ".gitignore",
    ".hidden/conf.py",
    "docs/guide.md",
    "docs/sub/b.tmp",
    "keep.log",
    "src/.gitignore",
    "src/app.py",
    "src/build/kept.py",
    "src/util.py",
    "image.bin",
]


def _sorted(paths: list[str]) -> list[str]:
    return sorted(paths, key=lambda p: p.split("/"))


@pytest.fixture
def tree(root: Path, tmp_path: Path) -> Path:
    write(root, TREE)
    write(tmp_path, {"outside.py": "VALUE = 42\n"})
    (root / "link.py").symlink_to(tmp_path / "outside.py")
    return root


async def test_glob_respects_gitignore(search_ws: DiskWorkspace, tree: Path) -> None:
    paths, truncated = await search_ws.glob("**", tree, 100)
    assert paths == _sorted(VISIBLE)
    assert not truncated


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.py", [".hidden/conf.py", "src/app.py", "src/build/kept.py", "src/util.py"]),
        ("src/*.py", ["src/app.py", "src/util.py"]),
        ("src/**/*.py", ["src/app.py", "src/build/kept.py", "src/util.py"]),
        ("**/*.{md,log}", ["docs/guide.md", "keep.log"]),
        ("./docs/**", ["docs/guide.md", "docs/sub/b.tmp"]),
        ("*.log", ["keep.log"]),  # naming an ignored file does not re-include it
        ("nothing*", []),
    ],
)
async def test_glob_patterns(
    search_ws: DiskWorkspace, tree: Path, pattern: str, expected: list[str]
) -> None:
    assert (await search_ws.glob(pattern, tree, 100)) == (expected, False)


async def test_glob_in_subdirectory_keeps_root_gitignore(
    search_ws: DiskWorkspace, tree: Path
) -> None:
    write(tree, {"docs/sub/c.log": "x"})
    assert (await search_ws.glob("*", tree / "docs", 100)) == (
        ["docs/guide.md", "docs/sub/b.tmp"],
        False,
    )


async def test_glob_limit_truncates_in_path_order(search_ws: DiskWorkspace, tree: Path) -> None:
    assert (await search_ws.glob("*.py", tree, 2)) == ([".hidden/conf.py", "src/app.py"], True)


async def test_glob_errors(search_ws: DiskWorkspace, tree: Path) -> None:
    with pytest.raises(WorkspaceError, match="empty"):
        await search_ws.glob("  ", tree, 10)
    with pytest.raises(WorkspaceError, match="is a file"):
        await search_ws.glob("*", tree / "src" / "app.py", 10)
    with pytest.raises(WorkspaceError, match="does not exist"):
        await search_ws.glob("*", tree / "nope", 10)


async def test_gitignore_inside_a_git_repository(search_ws: DiskWorkspace, root: Path) -> None:
    write(root, {".git/HEAD": "ref", ".gitignore": "*.out\n", "a.out": "", "b.py": ""})
    assert (await search_ws.glob("*", root, 10)) == ([".gitignore", "b.py"], False)


async def test_globs_naming_ignored_paths_do_not_reinclude_them(
    search_ws: DiskWorkspace, root: Path
) -> None:
    """rg's own --glob re-includes ignored files and directories it names."""
    write(
        root,
        {
            ".gitignore": "*.secret.json\nstash.json/\n",
            "a.json": "data",
            "x.secret.json": "data",
            "sub/.gitignore": "local.json\n!keep.secret.json\n",
            "sub/b.json": "data",
            "sub/local.json": "data",
            "sub/keep.secret.json": "data",
            "stash.json/c.json": "data",
        },
    )
    expected = ["a.json", "sub/b.json", "sub/keep.secret.json"]
    assert (await search_ws.glob("**/*.json", root, 100)) == (expected, False)
    assert (await search_ws.glob("*.secret.json", root, 100)) == (expected[2:], False)
    matches, _ = await search_ws.grep(
        "data", root, glob="*.json", ignore_case=False, context=0, limit=100
    )
    assert [m.path for m in matches] == expected


async def test_grep_respects_gitignore_and_skips_binary(
    search_ws: DiskWorkspace, tree: Path
) -> None:
    matches, truncated = await search_ws.grep(
        "VALUE", tree, glob=None, ignore_case=False, context=0, limit=100
    )
    assert not truncated
    assert [m.path for m in matches] == [
        ".hidden/conf.py",
        "docs/sub/b.tmp",
        "keep.log",
        "src/build/kept.py",
        "src/util.py",
    ]
    assert all(m.line == 1 or m.path == "src/util.py" for m in matches)
    assert matches[-1].line == 2 and matches[-1].text == "VALUE = 42"


async def test_grep_options(search_ws: DiskWorkspace, tree: Path) -> None:
    matches, _ = await search_ws.grep(
        "value", tree, glob="*.md", ignore_case=True, context=1, limit=100
    )
    assert [(m.path, m.line, m.text, m.is_context) for m in matches] == [
        ("docs/guide.md", 1, "# Guide", True),
        ("docs/guide.md", 2, "value = 42", False),
    ]
    matches, _ = await search_ws.grep(
        "VALUE", tree, glob="*.log", ignore_case=False, context=0, limit=100
    )
    assert [m.path for m in matches] == ["keep.log"]  # debug.log stays ignored
    matches, _ = await search_ws.grep(
        "42", tree / "src" / "app.py", glob=None, ignore_case=False, context=0, limit=100
    )
    assert [(m.path, m.line) for m in matches] == [("src/app.py", 2)]


async def test_grep_limit_drops_the_next_matchs_context(
    search_ws: DiskWorkspace, root: Path
) -> None:
    write(root, {"a.txt": "".join(f"hit {i}\nfill\nfill\n" for i in range(5))})
    matches, truncated = await search_ws.grep(
        "hit", root, glob=None, ignore_case=False, context=1, limit=2
    )
    assert truncated
    assert [(m.line, m.is_context) for m in matches] == [
        (1, False),
        (2, True),
        (3, True),
        (4, False),
        (5, True),
    ]


async def test_grep_regex_errors_and_python_only_syntax(
    search_ws: DiskWorkspace, tree: Path
) -> None:
    with pytest.raises(WorkspaceError, match="Invalid regex 'a\\(':"):
        await search_ws.grep("a(", tree, glob=None, ignore_case=False, context=0, limit=10)
    # Look-behind is not in ripgrep's default engine; the search still works.
    matches, _ = await search_ws.grep(
        r"(?<=return )\d+", tree, glob=None, ignore_case=False, context=0, limit=10
    )
    assert [(m.path, m.line) for m in matches] == [("src/app.py", 2)]


# --- the tools ------------------------------------------------------------------------


async def test_glob_tool(make_ctx: MakeCtx, search_ws: DiskWorkspace, tree: Path) -> None:
    ctx = make_ctx(search_ws)
    result = await run(glob, ctx, pattern="src/*.py")
    assert result.output == "src/app.py\nsrc/util.py"
    assert glob.title(glob.parse('{"pattern": "*.py", "path": "src"}')) == "Find *.py in src"
    result = await run(glob, ctx, pattern="*.rs")
    assert result.output == "No files match '*.rs' under .."
    with pytest.raises(ToolError, match="outside the workspace"):
        await run(glob, ctx, pattern="*", path="..")


async def test_glob_tool_says_when_truncated(
    make_ctx: MakeCtx, search_ws: DiskWorkspace, root: Path
) -> None:
    write(root, {f"f{i:04}.txt": "" for i in range(300)})
    result = await run(glob, make_ctx(search_ws, tools={"outputLimit": 1000}), pattern="*")
    assert result.output.startswith("f0000.txt\nf0001.txt\n")
    assert "there are more" in result.output
    assert len(result.output) <= 1000


async def test_grep_tool(make_ctx: MakeCtx, search_ws: DiskWorkspace, tree: Path) -> None:
    ctx = make_ctx(search_ws)
    result = await run(grep, ctx, pattern="42", path="src", context=1)
    assert result.output == (
        "src/app.py\n  1- def main():\n  2: return 42\n".replace(": return", ":     return")
        + "\nsrc/build/kept.py\n  1: VALUE = 42\n"
        + "\nsrc/util.py\n  1- import os\n  2: VALUE = 42\n"
        + "\n3 matches in 3 files."
    )
    result = await run(grep, ctx, pattern="VALUE", max_results=2)
    assert "2 matches in 2 files (stopped early" in result.output
    assert "raise max_results" in result.output
    result = await run(grep, ctx, pattern="zzz", glob="*.py")
    assert result.output == "No matches for 'zzz' in . (files matching '*.py')."
    with pytest.raises(ToolError, match="Invalid regex"):
        await run(grep, ctx, pattern="(")


async def test_grep_tool_separates_distant_context_groups(
    make_ctx: MakeCtx, search_ws: DiskWorkspace, root: Path
) -> None:
    write(root, {"a.txt": "x\n" + "-\n" * 5 + "x\n"})
    result = await run(grep, make_ctx(search_ws), pattern="x", context=1)
    assert result.output.startswith("a.txt\n  1: x\n  2- -\n  --\n  6- -\n  7: x\n")


async def test_workspace_inside_a_repository_uses_the_repository_gitignore(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    write(repo, {".git/HEAD": "ref", ".gitignore": "/pkg/*.tmp\n*.out\n"})
    write(repo, {"pkg/a.tmp": "", "pkg/sub/b.tmp": "", "pkg/c.out": "", "pkg/d.py": ""})
    for use_ripgrep in (True, False):
        ws = DiskWorkspace([repo / "pkg"], use_ripgrep=use_ripgrep)
        assert (await ws.glob("**", repo / "pkg", 10)) == (["d.py", "sub/b.tmp"], False)


async def test_a_runaway_regex_is_stopped_at_the_time_cap(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a" * 60 + "!\n")
    ws = DiskWorkspace([tmp_path])
    with pytest.raises(WorkspaceError, match=r"stopped after 0\.5 s"):
        await ws.grep(
            r"(a|aa)+(?<!x)$",
            tmp_path,
            glob=None,
            ignore_case=False,
            context=0,
            limit=10,
            timeout_s=0.5,
        )
