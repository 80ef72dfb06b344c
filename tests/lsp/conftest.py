"""Fixtures for the LSP suite.

Starting a server costs about two seconds, so the main flows share one server per client
flavour for the whole session (`agent`, parametrized over FLAVOURS), and every test works
in its own sessions and its own folder of the workspace. All tests here run on the
session's event loop, which those servers live on. A test that needs one flavour only
uses `@one_flavour`; tests that need a differently configured server start their own.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.model_server import FakeModelServer
from tests.lsp.harness import LANGUAGE_AGENT_CAPS, AgentClient, leaked, start, stop

FLAVOURS = ["visual-studio-code", "neovim"]
HERE = Path(__file__).parent
_tests = itertools.count(1)

one_flavour = pytest.mark.parametrize("shared_agent", ["visual-studio-code"], indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if HERE in Path(str(item.fspath)).parents and pytest_asyncio.is_async_test(item):
            item.add_marker(session_loop, append=False)


@pytest.fixture(scope="session")
def lsp_model() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=FLAVOURS)
async def shared_agent(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    lsp_model: FakeModelServer,
) -> AsyncIterator[AgentClient]:
    base = tmp_path_factory.mktemp(f"shared-{request.param}")
    (base / "ws").mkdir()
    client = await start(base / "ws", base / "state", lsp_model, flavour=request.param)
    try:
        yield client
    finally:
        await stop(client)
    assert leaked(client.editor) == []


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_plain_agent(
    tmp_path_factory: pytest.TempPathFactory, lsp_model: FakeModelServer
) -> AsyncIterator[AgentClient]:
    """A client without `capabilities.experimental.lspAgent` (any LSP client)."""
    base = tmp_path_factory.mktemp("shared-plain")
    (base / "ws").mkdir()
    client = await start(base / "ws", base / "state", lsp_model, agent_caps=None)
    try:
        yield client
    finally:
        await stop(client)
    assert leaked(client.editor) == []


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_language_agent(
    tmp_path_factory: pytest.TempPathFactory, lsp_model: FakeModelServer
) -> AsyncIterator[AgentClient]:
    """A client that answers `agent/languageFeature` (its language servers' results)."""
    base = tmp_path_factory.mktemp("shared-language")
    (base / "ws").mkdir()
    client = await start(
        base / "ws",
        base / "state",
        lsp_model,
        agent_caps=LANGUAGE_AGENT_CAPS,
        settings={"langserver": {"diagnosticsWaitS": 0.5}},
    )
    try:
        yield client
    finally:
        await stop(client)
    assert leaked(client.editor) == []


def _fresh(shared: AgentClient, model: FakeModelServer) -> Iterator[AgentClient]:
    model.clear()
    model.respond_with(None)
    shared.editor.reset()
    shared.prefix = f"t{next(_tests)}"
    shared.path("").mkdir(parents=True, exist_ok=True)
    yield shared
    assert shared.client.error is None, "the client saw a protocol error"
    assert shared.editor.stray == [], "the server wrote something else than JSON-RPC"


@pytest.fixture
def agent(shared_agent: AgentClient, lsp_model: FakeModelServer) -> Iterator[AgentClient]:
    """The shared server of one flavour, reset for this test, with its own folder."""
    yield from _fresh(shared_agent, lsp_model)


@pytest.fixture
def plain_agent(
    shared_plain_agent: AgentClient, lsp_model: FakeModelServer
) -> Iterator[AgentClient]:
    """The shared server of a client without the agent capabilities, reset for this test."""
    yield from _fresh(shared_plain_agent, lsp_model)


@pytest.fixture
def language_agent(
    shared_language_agent: AgentClient, lsp_model: FakeModelServer
) -> Iterator[AgentClient]:
    """The shared server of a client with `languageFeatures`, reset for this test."""
    yield from _fresh(shared_language_agent, lsp_model)
