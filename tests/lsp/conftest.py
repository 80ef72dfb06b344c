from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.model_server import FakeModelServer
from tests.lsp.harness import AgentClient, start, stop

FLAVOURS = ["visual-studio-code", "neovim"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("def add(a, b):\n    return a - b\n")
    return root


@pytest_asyncio.fixture(params=FLAVOURS)
async def agent(
    request: pytest.FixtureRequest, workspace: Path, tmp_path: Path, model_server: FakeModelServer
) -> AsyncIterator[AgentClient]:
    client = await start(workspace, tmp_path / "state", model_server, flavour=request.param)
    try:
        yield client
    finally:
        await stop(client)
