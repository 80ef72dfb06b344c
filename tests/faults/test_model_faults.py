"""Model faults: each run retries to success or ends with a clear model_error, and the daemon
keeps serving (bench/model_faults.py measures the same with times)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bench.common import Bench, daemon
from bench.model import BenchModelServer
from bench.model_faults import FAULTS, RECOVERED, inflict, options
from bench.rpc import Daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def faulty(bench: Bench, server: BenchModelServer) -> AsyncIterator[Daemon]:
    """A daemon with a short read timeout, so a stalled stream times out quickly."""
    async with daemon(bench, server, options=options(server)) as d:
        yield d


@pytest.mark.parametrize("fault", [f for f, (_, end) in FAULTS.items() if end == "retried"])
async def test_transient_fault_is_retried_to_success(
    faulty: Daemon, server: BenchModelServer, fault: str
) -> None:
    outcome = await inflict(faulty, server, fault)
    assert outcome.stop_reason == "end_turn", outcome
    assert outcome.error is None
    assert outcome.text.endswith(RECOVERED)
    assert outcome.requests == 2  # the faulty attempt, then the retry
    assert outcome.still_serving


async def test_malformed_chunk_ends_with_a_clear_model_error(
    faulty: Daemon, server: BenchModelServer
) -> None:
    outcome = await inflict(faulty, server, "malformed chunk")
    assert outcome.stop_reason == "model_error"
    assert outcome.error is not None and "not valid chat-completion JSON" in outcome.error
    assert outcome.requests == 1  # not retried: the server is not speaking the protocol
    assert outcome.still_serving
