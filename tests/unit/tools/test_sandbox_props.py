"""Property tests: whatever path the model sends, resolve() stays inside the workspace."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_agent.workspace import DiskWorkspace, PathOutsideWorkspace

ESCAPING_LINKS = ["link_out", "link_out_file", "rel_out", "chain_out", "dangling_out"]
NAMES = [
    *ESCAPING_LINKS,
    *("a", "b.txt", "link_in", "link_in_file", "loop", "missing", "ws", "outside"),
    *("..", ".", "", "~", "日本語", "\u202eevil", "e\u0301", "a\0b", "x" * 300, "\\", "C:"),
]


@dataclass(frozen=True)
class Sandbox:
    base: Path
    root: Path
    outside: Path
    ws: DiskWorkspace


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    base = tmp_path_factory.mktemp("sandbox")
    root, outside = base / "ws", base / "outside"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b.txt").write_text("inside")
    outside.mkdir()
    (outside / "secret").write_text("secret")
    links = {
        "link_in": root / "a",
        "link_in_file": root / "a" / "b.txt",
        "link_out": outside,
        "link_out_file": outside / "secret",
        "rel_out": Path("../outside"),
        "chain_out": root / "link_out",
        "dangling_out": outside / "not-yet",
        "loop": root / "loop",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    (root / "a" / "up").symlink_to(Path(".."))  # inside, via a relative parent link
    return Sandbox(base, root, outside, DiskWorkspace([root]))


components = st.one_of(st.sampled_from(NAMES), st.text(max_size=6))
relative = st.lists(components, max_size=8).map("/".join)


@st.composite
def any_path(draw: st.DrawFn, sandbox: Sandbox) -> str:
    prefix = draw(
        st.sampled_from(
            ["", "/", str(sandbox.root) + "/", str(sandbox.outside) + "/", f"{sandbox.base}/"]
        )
    )
    return prefix + draw(relative)


def _inside(path: Path, root: Path) -> bool:
    return path == root or str(path).startswith(str(root) + os.sep)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_resolve_stays_inside_or_refuses(sandbox: Sandbox, data: st.DataObject) -> None:
    raw = data.draw(any_path(sandbox))
    try:
        resolved = sandbox.ws.resolve(raw)
    except PathOutsideWorkspace as e:
        assert str(e)  # refused, with a message
        return
    assert resolved.is_absolute()
    assert _inside(resolved, sandbox.root)
    assert os.path.realpath(resolved) == str(resolved)  # no symlink left to follow


@settings(max_examples=200, deadline=None)
@given(
    link=st.sampled_from(ESCAPING_LINKS),
    rest=st.lists(
        st.sampled_from(NAMES[5:]).filter(lambda n: n not in ("..", "loop", "link_in", "a\0b")),
        max_size=4,
    ),
)
def test_escaping_symlinks_are_always_refused(sandbox: Sandbox, link: str, rest: list[str]) -> None:
    path = "/".join([link, *rest])
    with pytest.raises(PathOutsideWorkspace):
        sandbox.ws.resolve(path)
    with pytest.raises(PathOutsideWorkspace):
        sandbox.ws.resolve(str(sandbox.root / path))


def test_links_inside_resolve_to_their_targets(sandbox: Sandbox) -> None:
    ws, root = sandbox.ws, sandbox.root
    assert ws.resolve("link_in/b.txt") == root / "a" / "b.txt"
    assert ws.resolve("link_in_file") == root / "a" / "b.txt"
    assert ws.resolve("a/up/a/up/a") == root / "a"
    assert ws.resolve("link_out/../ws/a") == root / "a"  # leaves, then comes back in
