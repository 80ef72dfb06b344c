"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fakes.model_server import FakeModelServer

# The developer's own user config (~/.config/lsp-agent/config.toml) must reach no test, nor
# the processes the tests start; a test that wants one sets LSP_AGENT_CONFIG itself.
os.environ["LSP_AGENT_CONFIG"] = os.devnull


@pytest.fixture
def model_server() -> Iterator[FakeModelServer]:
    """A started fake OpenAI-compatible model server; script it with `.script(...)`."""
    with FakeModelServer() as server:
        yield server
