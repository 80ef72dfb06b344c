"""Fault tests drive the real `lsp-agent serve` with the bench's small JSON-RPC client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from bench.common import Bench, daemon, model_options
from bench.model import BenchModelServer
from bench.rpc import Daemon


@pytest.fixture(scope="module")
def server() -> Iterator[BenchModelServer]:
    with BenchModelServer() as s:
        yield s


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    return Bench(tmp=tmp_path_factory.mktemp("faults"))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def agent(bench: Bench, server: BenchModelServer) -> AsyncIterator[Daemon]:
    """One daemon per module, against the module's fake model server."""
    async with daemon(bench, server, options=model_options(server)) as d:
        yield d
