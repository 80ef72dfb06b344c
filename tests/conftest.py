"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.model_server import FakeModelServer


@pytest.fixture
def model_server() -> Iterator[FakeModelServer]:
    """A started fake OpenAI-compatible model server; script it with `.script(...)`."""
    with FakeModelServer() as server:
        yield server
