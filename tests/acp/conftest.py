from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.model_server import FakeModelServer


@pytest.fixture
def model() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".lsp-agent.toml").write_text(
        '[model]\ncontextWindow = 32000\n[permissions]\nmode = "ask"\n', encoding="utf-8"
    )
    return root.resolve()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"
