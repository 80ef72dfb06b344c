"""Fault figure: malformed JSON-RPC frames and random params (hypothesis) against the daemon.

Every frame is well framed (a correct Content-Length); what is inside varies:

    request       a well-formed request to an `agent/*` method (or an unknown one) with
                  params of every JSON type, huge numbers included
    notification  the same without an id
    bad_request   an object with an id and a method, broken in one way: no "jsonrpc", the
                  wrong version, an extra member, a method that is not a string, params
                  of the wrong type for an LSP method
    raw           bytes that are not a JSON-RPC object: invalid JSON, arrays, scalars

A well-formed request must get a response (a result or an error); a bad request with an id
deserves an error response too (JSON-RPC: -32600/-32602); nothing may crash the daemon, and
a normal request must still work at the end. Shared with tests/faults/test_fuzz.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.common import Bench, Row, daemon
from bench.model import BenchModelServer
from bench.rpc import Daemon, id_key
from tests.fakes.model_server import text_reply

AGENT_METHODS = [
    "agent/session/new",
    "agent/session/prompt",
    "agent/session/cancel",
    "agent/session/list",
    "agent/session/load",
    "agent/session/undo",
]
LSP_METHODS = ["textDocument/codeAction", "workspace/executeCommand"]
NOTIFY_METHODS = [*AGENT_METHODS, "textDocument/didOpen", "textDocument/didChange", "$/progress"]
INTERNAL_ERROR = -32603
FORBIDDEN = {"initialize", "shutdown", "exit", "initialized"}  # they end or reset the session
FIELDS = ["sessionId", "prompt", "cwd", "title", "turns", "force", "context", "workDoneToken"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=10**40)
    | st.integers(min_value=-(10**40), max_value=-(2**63))
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
keys = st.text(max_size=12) | st.sampled_from(["jsonrpc", "id", "method", "params", "uri"])
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner),
    max_leaves=10,
)
agent_params = json_values | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4)
methods = (
    st.sampled_from(AGENT_METHODS)
    | st.text(max_size=30).filter(lambda m: m not in FORBIDDEN)
    | st.just("agent/session/nope")
)


def _bad(kind: str, method: Any, params: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if kind == "no_jsonrpc":
        del base["jsonrpc"]
    elif kind == "version":
        base["jsonrpc"] = "1.0"
    elif kind == "extra":
        base["extra"] = params
    elif kind == "method_type":
        base["method"] = params if not isinstance(params, str) else [params]
    elif kind == "lsp_params":
        base["method"] = LSP_METHODS[len(str(params)) % len(LSP_METHODS)]
    return base


frames = st.one_of(
    st.tuples(st.just("request"), methods, agent_params),
    st.tuples(st.just("notification"), st.sampled_from(NOTIFY_METHODS), agent_params),
    st.tuples(
        st.just("bad_request"),
        st.sampled_from(["no_jsonrpc", "version", "extra", "method_type", "lsp_params"]),
        st.tuples(st.sampled_from(AGENT_METHODS), json_values),
    ),
    st.tuples(
        st.just("bad_id"),
        st.sampled_from(AGENT_METHODS),
        st.lists(json_values, max_size=2)
        | st.dictionaries(st.text(max_size=5), scalars)
        | st.floats(allow_nan=False)
        | st.booleans(),
    ),
    st.tuples(
        st.just("raw"),
        st.binary(max_size=200)
        | st.builds(lambda v: json.dumps(v).encode(), json_values)
        | st.builds(lambda v: json.dumps(v).encode()[:-1], st.dictionaries(st.text(), scalars)),
        st.none(),
    ),
)


@dataclass
class Tally:
    frames: int = 0
    requests: int = 0  # well-formed, with an id
    answered: int = 0
    bad_requests: int = 0  # malformed, but with a usable id
    bad_answered: int = 0
    bad_unanswered: dict[str, int] = field(default_factory=dict)  # by way of breaking
    nested_jsonrpc: int = 0  # unanswered frames whose params hold a "jsonrpc" key
    unanswered: list[dict[str, Any]] = field(default_factory=list)  # well-formed, no answer
    internal: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # -32603 answers


class Fuzzer:
    """Sends batches of generated frames to one daemon and checks the answers.

    `known_bugs=False` renames "jsonrpc" keys inside params (a known bug, tested apart) so
    that a strict run fails only on something new.
    """

    def __init__(self, d: Daemon, *, known_bugs: bool = True) -> None:
        self.d = d
        self.tally = Tally()
        self.known_bugs = known_bugs
        self._ids = itertools.count(1_000_000)

    def encode(self, frame: tuple[Any, Any, Any]) -> tuple[bytes, Any, str]:
        """(body, the id an answer must carry or None, what kind of frame)."""
        kind, a, b = frame
        if kind == "raw":
            return a, None, kind
        if not self.known_bugs:
            b = _without_jsonrpc_keys(b)
        msg_id = next(self._ids)
        if kind == "request":
            return _dump({"jsonrpc": "2.0", "id": msg_id, "method": a, "params": b}), msg_id, kind
        if kind == "notification":
            return _dump({"jsonrpc": "2.0", "method": a, "params": b}), None, kind
        if kind == "bad_id":
            return _dump({"jsonrpc": "2.0", "id": b, "method": a, "params": {}}), None, kind
        method, params = b
        return _dump({**_bad(a, method, params), "id": msg_id}), msg_id, f"bad:{a}"

    async def batch(self, batch: list[tuple[Any, Any, Any]], wait_s: float = 60) -> None:
        d = self.d
        expected: list[tuple[Any, str, bytes]] = []
        for frame in batch:
            body, msg_id, kind = self.encode(frame)
            d.write_frame(body)
            self.tally.frames += 1
            if msg_id is not None:
                expected.append((msg_id, kind, body))
        # Two barriers: when the second is answered, every frame before the first has been
        # read and handled (or dropped). Handlers answer after at most one call to the
        # session store, whose single thread runs calls in order, so every answer that
        # will ever come has come.
        for _ in range(2):
            barrier = await d.request("agent/session/list", {}, wait_s)
            if "error" in barrier:
                raise AssertionError(f"a normal request failed: {barrier}")
        for msg_id, kind, body in expected:
            answer = d.responses.get(id_key(msg_id))
            got = answer is not None
            if not got and _has_jsonrpc_key(json.loads(body).get("params")):
                self.tally.nested_jsonrpc += 1
            if kind == "request":
                self.tally.requests += 1
                self.tally.answered += got
                if not got:
                    self.tally.unanswered.append(json.loads(body))
                elif answer.get("error", {}).get("code") == INTERNAL_ERROR:
                    self.tally.internal.append((json.loads(body), answer["error"]["message"]))
            else:
                self.tally.bad_requests += 1
                self.tally.bad_answered += got
                if not got:
                    self.tally.bad_unanswered[kind] = self.tally.bad_unanswered.get(kind, 0) + 1
        d.responses.clear()  # keep memory flat over thousands of frames


def _has_jsonrpc_key(value: Any) -> bool:
    if isinstance(value, dict):
        return "jsonrpc" in value or any(_has_jsonrpc_key(v) for v in value.values())
    return isinstance(value, list) and any(_has_jsonrpc_key(v) for v in value)


def _without_jsonrpc_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            ("jsonrpc_" if k == "jsonrpc" else k): _without_jsonrpc_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_without_jsonrpc_keys(v) for v in value)
    return value


def _dump(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def drive(
    fuzzer: Fuzzer, loop: asyncio.AbstractEventLoop, examples: int, size: int, strict: bool
) -> None:
    """Run hypothesis (in this worker thread) against the daemon on `loop`. `strict`: fail
    (and shrink to a small failing batch) when a well-formed request goes unanswered."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(frames, min_size=size, max_size=size))
    def one(batch: list[tuple[Any, Any, Any]]) -> None:
        unanswered = len(fuzzer.tally.unanswered)
        asyncio.run_coroutine_threadsafe(fuzzer.batch(batch), loop).result()
        if fuzzer.d.proc.returncode is not None:
            raise AssertionError(f"the daemon exited with {fuzzer.d.proc.returncode}")
        if strict and len(fuzzer.tally.unanswered) > unanswered:
            raise AssertionError(f"unanswered: {fuzzer.tally.unanswered[unanswered:]}")

    one()


async def fuzz(d: Daemon, frames_total: int, size: int = 10, strict: bool = False) -> Tally:
    fuzzer = Fuzzer(d, known_bugs=not strict)
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(drive, fuzzer, loop, max(1, frames_total // size), size, strict)
    return fuzzer.tally


async def run(bench: Bench) -> list[Row]:
    total = bench.n(10_000, 1_000)
    with BenchModelServer() as server:
        server.respond_with(lambda request: text_reply("ok"))  # runs that commands start
        async with daemon(bench, server) as d:
            tally = await fuzz(d, total)
            alive = d.proc.returncode is None
            final = await d.request("agent/session/new", {}) if alive else {"error": "dead"}
            works = alive and "result" in final
    by_kind = ", ".join(f"{k.removeprefix('bad:')} {n}" for k, n in tally.bad_unanswered.items())
    if tally.unanswered:
        sample = json.dumps(tally.unanswered[0])[:200]
        bench.notes.append(f"Fuzz: a well-formed request left unanswered: {sample}")
    if tally.internal:
        kinds = sorted({message.split(":")[0] for _, message in tally.internal})
        request = json.dumps(tally.internal[0][0])[:160]
        bench.notes.append(
            f"Fuzz: {len(tally.internal)} well-formed requests got -32603 InternalError (a "
            f"handler raised: {', '.join(kinds)}), e.g. {request}"
        )
    if by_kind:
        bench.notes.append(f"Fuzz: malformed requests with an id left unanswered: {by_kind}.")
    if tally.nested_jsonrpc:
        bench.notes.append(
            f"Fuzz: {tally.nested_jsonrpc} of the unanswered frames hold an object with a "
            '"jsonrpc" key inside their params.'
        )
    return [
        Row(
            "F3",
            f"{tally.frames:,} fuzzed frames: daemon alive, a normal request works",
            "yes" if works else "NO",
            "yes",
            works,
        ),
        Row(
            "F3",
            "well-formed requests (random params) answered",
            f"{tally.answered:,}/{tally.requests:,}",
            "all",
            tally.answered == tally.requests,
        ),
        Row(
            "F3",
            "malformed requests with an id answered with an error",
            f"{tally.bad_answered:,}/{tally.bad_requests:,}",
            "all",
            tally.bad_answered == tally.bad_requests,
        ),
    ]
