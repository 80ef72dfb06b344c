"""Fault figure: model faults survived. Each fault is followed by a good answer; the run must
retry to success or end with a clear `model_error`, and the daemon must keep serving.

Shared with tests/faults/test_model_faults.py (which asserts the same without timing).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.common import Bench, Row, daemon, model_options
from bench.model import BenchModelServer
from bench.rpc import Daemon
from tests.fakes.model_server import FakeResponse, chunk, error_reply, text_reply

READ_TIMEOUT_S = 0.5
RECOVERED = "Recovered: the answer after the fault."
PARTIAL = "This answer will be interrupted " * 4


def malformed_chunk() -> FakeResponse:
    good = text_reply("unused")
    chunks = [chunk({"role": "assistant", "content": None}), "{this is not json", *good.chunks[1:]]  # type: ignore[misc]
    return FakeResponse(chunks=chunks, headers=good.headers)


# name -> (the faulty response, the outcome it must end in: "retried" or "model_error")
FAULTS: dict[str, tuple[Callable[[], FakeResponse], str]] = {
    "429 with Retry-After": (lambda: error_reply(429, "slow down", retry_after=0), "retried"),
    "500": (lambda: error_reply(500, "internal error"), "retried"),
    "stream reset mid-way": (lambda: text_reply(PARTIAL, chunk_size=4, cut_after=6), "retried"),
    "malformed chunk": (malformed_chunk, "model_error"),
    "stall past the read timeout": (
        lambda: text_reply(PARTIAL, chunk_size=4, stall_after=4),
        "retried",
    ),
}


@dataclass
class Outcome:
    fault: str
    stop_reason: str
    error: str | None
    text: str  # the answer the client saw
    requests: int  # chat requests the model server got
    seconds: float
    still_serving: bool

    @property
    def kind(self) -> str:
        if self.stop_reason == "end_turn" and self.text.endswith(RECOVERED):
            return "retried"
        if self.stop_reason == "model_error" and self.error:
            return "model_error"
        return f"unexpected: {self.stop_reason} {self.error!r}"


def options(server: BenchModelServer) -> dict[str, object]:
    return model_options(server, readTimeoutS=READ_TIMEOUT_S, maxAttempts=3)


async def inflict(d: Daemon, server: BenchModelServer, fault: str) -> Outcome:
    """Run one prompt against `fault` then a good answer; then check the daemon serves."""
    make, _ = FAULTS[fault]
    server.clear()
    server.script(make(), text_reply(RECOVERED))
    session = await d.new_session()
    started = time.monotonic()
    result = await d.prompt(session, "Say something.")
    seconds = time.monotonic() - started
    requests = len(server.chat_requests)
    server.clear()
    server.script(text_reply("still here"))
    after = await d.prompt(await d.new_session(), "Are you there?")
    return Outcome(
        fault,
        result["stopReason"],
        result.get("error"),
        d.text_of(session),
        requests,
        seconds,
        after["stopReason"] == "end_turn" and d.proc.returncode is None,
    )


async def run(bench: Bench) -> list[Row]:
    outcomes: list[Outcome] = []
    with BenchModelServer() as server:
        async with daemon(bench, server, options=options(server)) as d:
            for fault in FAULTS:
                outcomes.append(await inflict(d, server, fault))
    survived = [o for o in outcomes if o.kind == FAULTS[o.fault][1] and o.still_serving]
    detail = "; ".join(f"{o.fault}: {o.kind} in {o.seconds:.2f} s" for o in outcomes)
    bench.notes.append(f"Model faults: {detail}.")
    leaked = [o.fault for o in outcomes if o.kind == "retried" and o.text != RECOVERED]
    if leaked:
        bench.notes.append(
            "Model faults: after a retry the client's transcript still holds the void "
            f"attempt's partial text ({', '.join(leaked)})."
        )
    return [
        Row(
            "F1",
            "model faults survived (retried, or a clear model_error; daemon serves)",
            f"{len(survived)}/{len(outcomes)}",
            "all",
            len(survived) == len(outcomes),
        ),
    ]
