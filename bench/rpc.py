"""A small asyncio JSON-RPC client driving the real `lsp-agent serve` over stdio.

It plays a minimal editor: it answers whatever the server asks with `null`, records every
notification with the `perf_counter_ns` time it was read, and can write raw frames (for the
fuzzing). One instance per daemon process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsp_agent.server.uris import path_to_uri

TAG_ENV = "LSP_AGENT_BENCH_TAG"  # inherited by every process the daemon starts
UPDATE = "agent/session/update"


def id_key(msg_id: Any) -> Any:
    """A dict key for any JSON id (a fuzzed id may be an object or a list)."""
    return msg_id if msg_id is None or isinstance(msg_id, int | str) else json.dumps(msg_id)


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.error = error


@dataclass
class Received:
    t_ns: int
    method: str
    params: Any


@dataclass
class Daemon:
    proc: asyncio.subprocess.Process
    root: Path
    state: Path
    tag: str
    spawned_ns: int
    notifications: list[Received] = field(default_factory=list)
    responses: dict[Any, dict[str, Any]] = field(default_factory=dict)  # every one, by id
    server_requests: list[dict[str, Any]] = field(default_factory=list)
    on_notification: Callable[[Received], None] | None = None
    _pending: dict[Any, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _reader: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    # --- life -----------------------------------------------------------------

    @classmethod
    async def spawn(
        cls,
        root: Path,
        state: Path,
        *,
        tag: str = "",
        env: dict[str, str] | None = None,
        log: Path | None = None,
        python_args: tuple[str, ...] = (),
    ) -> Daemon:
        """`python_args` go before `-m lsp_agent`, e.g. ("-m", "cProfile", "-o", FILE)."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        full_env["LSP_AGENT_STATE_DIR"] = str(state)
        full_env[TAG_ENV] = tag or f"bench-{os.getpid()}"
        full_env.update(env or {})
        stderr = open(log, "ab") if log else asyncio.subprocess.DEVNULL  # noqa: SIM115, ASYNC230
        spawned = time.perf_counter_ns()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *python_args,
            "-m",
            "lsp_agent",
            "serve",
            "--stdio",
            "--log-level",
            "warning",
            cwd=root,
            env=full_env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        if log:
            stderr.close()  # type: ignore[union-attr]
        daemon = cls(proc, root, state, full_env[TAG_ENV], spawned)
        daemon._reader = asyncio.create_task(daemon._read())
        return daemon

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def initialize(
        self, options: dict[str, Any] | None = None, capabilities: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        uri = path_to_uri(self.root)
        result = await self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": "ws"}],
                "capabilities": capabilities or {},
                "initializationOptions": {"lspAgent": options or {}},
            },
        )
        self.notify("initialized", {})
        return dict(result)

    async def stop(self, wait_s: float = 20) -> None:
        """shutdown + exit; kill if it does not leave in time."""
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(wait_s):
                    await self.call("shutdown", None)
                    self.notify("exit", None)
                    await self.proc.wait()
        await self.kill()

    async def kill(self, sig: int = 9) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
        await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    # --- sending --------------------------------------------------------------

    def write_frame(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.write_frame(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def start_request(self, method: str, params: Any, msg_id: Any = None) -> Any:
        """Send a request; `await self.response(id)` for its answer (result or error)."""
        msg_id = next(self._ids) if msg_id is None else msg_id
        self._pending[msg_id] = asyncio.get_running_loop().create_future()
        self.send({"id": msg_id, "method": method, "params": params})
        return msg_id

    async def response(self, msg_id: Any, wait_s: float = 120) -> dict[str, Any]:
        async with asyncio.timeout(wait_s):
            return await asyncio.shield(self._pending[msg_id])

    async def request(self, method: str, params: Any, wait_s: float = 120) -> dict[str, Any]:
        """The whole response message (with `result` or `error`) and `t_ns` it was read."""
        return await self.response(self.start_request(method, params), wait_s)

    async def call(self, method: str, params: Any, wait_s: float = 120) -> Any:
        """The result; RpcError for an error response."""
        message = await self.request(method, params, wait_s)
        if "error" in message:
            raise RpcError(message["error"])
        return message.get("result")

    # --- the agent protocol -----------------------------------------------------

    async def new_session(self) -> str:
        result = await self.call("agent/session/new", {})
        return str(result["sessionId"])

    async def prompt(self, session_id: str, text: str, wait_s: float = 120) -> dict[str, Any]:
        result = await self.call(
            "agent/session/prompt", {"sessionId": session_id, "prompt": text}, wait_s
        )
        return dict(result)

    def updates(self, session_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            n.params["update"]
            for n in self.notifications
            if n.method == UPDATE
            and n.params.get("sessionId") == session_id
            and (kind is None or n.params["update"].get("sessionUpdate") == kind)
        ]

    def text_of(self, session_id: str) -> str:
        return "".join(
            u["content"]["text"] for u in self.updates(session_id, "agent_message_chunk")
        )

    async def until(self, predicate: Callable[[], bool], wait_s: float = 60) -> None:
        """Wait until `predicate()` holds; checked whenever a message arrives."""
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            async with asyncio.timeout(wait_s):  # a liveness guard, not a timing assertion
                await future
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove((predicate, future))
        if not predicate():
            raise ConnectionError("the daemon went away while we waited")

    # --- reading --------------------------------------------------------------

    async def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while True:
                length = 0
                while True:
                    line = await stdout.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await stdout.readexactly(length)
                t_ns = time.perf_counter_ns()
                self._dispatch(json.loads(body), t_ns)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the daemon's stdout closed"))
                    future.exception()  # retrieved: nobody may be waiting for it
            self._wake()

    def _dispatch(self, message: dict[str, Any], t_ns: int) -> None:
        if "method" in message and "id" in message:  # a request from the server
            self.server_requests.append(message)
            self.send({"id": message["id"], "result": None})
        elif "method" in message:
            received = Received(t_ns, message["method"], message.get("params"))
            self.notifications.append(received)
            if self.on_notification is not None:
                self.on_notification(received)
        else:
            message["t_ns"] = t_ns
            msg_id = id_key(message.get("id"))
            self.responses[msg_id] = message
            future = self._pending.pop(msg_id, None)
            if future is not None and not future.done():
                future.set_result(message)
        self._wake()

    def _wake(self) -> None:
        for predicate, future in self._waiters:
            if not future.done() and (self.closed.is_set() or predicate()):
                future.set_result(None)
