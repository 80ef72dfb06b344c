from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lsp_agent.agent.events import Event
from lsp_agent.config import Settings
from lsp_agent.tools.base import ToolContext
from lsp_agent.tools.disk_search import find_rg
from lsp_agent.workspace import DiskWorkspace, Workspace
from tests.unit.tools.helpers import MakeCtx


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def ws(root: Path) -> DiskWorkspace:
    return DiskWorkspace([root])


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def make_ctx(ws: DiskWorkspace, events: list[Event]) -> MakeCtx:
    def make(workspace: Workspace | None = None, **settings: Any) -> ToolContext:
        return ToolContext(
            workspace=workspace or ws,
            settings=Settings.model_validate(settings),
            tool_call_id="call-1",
            emit=events.append,
        )

    return make


@pytest.fixture
def ctx(make_ctx: MakeCtx) -> ToolContext:
    return make_ctx()


@pytest.fixture(params=["ripgrep", "python"])
def search_ws(request: pytest.FixtureRequest, root: Path) -> DiskWorkspace:
    """Both search backends: ripgrep, and the pure-Python fallback."""
    if request.param == "ripgrep" and find_rg() is None:
        pytest.skip("rg is not installed")
    return DiskWorkspace([root], use_ripgrep=request.param == "ripgrep")
