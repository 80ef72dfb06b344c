"""Hops of one prompt through each front end, LSP (`lsp-agent serve`) and ACP (`lsp-agent acp`),
for issue 12's closing note.

`python -m bench.prompt_hops` starts each front end against the fake model server, sends one
session/new and one prompt (a one-line answer, no tools), and counts two things:
- messages: the JSON-RPC frames on the wire from the prompt request to its response, both
  ways (the request, the updates, any server→client request, the response);
- code hops inside the agent process, from the front end's prompt handler being entered
  (LSP: `server/features/sessions.py:session_prompt`; ACP: `acp/agent.py:AcpAgent.prompt`)
  to the model request being sent (`model/client.py:ModelClient._attempt`): the distinct
  lsp_agent functions entered, the distinct modules they live in, and the distinct module
  boundaries crossed (caller module → callee function, both in lsp_agent); of those
  functions, how many were entered before the session service's `prompt` (to_service) and
  how many live in the front end's own package, `server/` or `acp/` (front_end). A profile hook
  (sys.setprofile, every thread) records them; a coroutine resumed counts as entered, and
  whatever else the process runs in that window (its stdio reader) is counted too;
  comprehensions, lambdas and module or class bodies (first imports) are not.

`python -m bench.prompt_hops trace OUT -m lsp_agent ARGS…` is the traced process itself.
This is not part of `python -m bench` (it measures structure, not time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import lsp_agent

PACKAGE = Path(lsp_agent.__file__).resolve().parent
REPO = PACKAGE.parent
STARTS = {
    ("server/features/sessions.py", "session_prompt"),
    ("acp/agent.py", "prompt"),
}
STOP = ("model/client.py", "_attempt")
SERVICE = ("agent/service.py", "prompt")  # SessionService.prompt: where the front ends meet
FRONT_ENDS = ("server/", "acp/")
ANSWER = "Hello from the fake model."
CO_OPTIMIZED = 0x1  # set on function code objects only


# --- the traced process --------------------------------------------------------------


def _module(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    path = frame.f_code.co_filename
    prefix = str(PACKAGE) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else None


class Tracer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.on = False
        self.done = False
        self.functions: set[tuple[str, str, int]] = set()
        self.crossings: set[tuple[str, str, str]] = set()
        self.to_service: int | None = None
        self.lock = threading.Lock()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or self.done:
            return
        module = _module(frame)
        if module is None:
            return
        name = frame.f_code.co_name
        if name.startswith("<") or not frame.f_code.co_flags & CO_OPTIMIZED:
            return  # comprehensions, lambdas, module and class bodies (first imports)
        with self.lock:
            if not self.on:
                if (module, name) not in STARTS:
                    return
                self.on = True
            if (module, name) == STOP:
                self._finish()
                return
            if (module, name) == SERVICE and self.to_service is None:
                self.to_service = len(self.functions)
            self.functions.add((module, frame.f_code.co_qualname, frame.f_code.co_firstlineno))
            caller = _module(frame.f_back)
            if caller is not None and caller != module:
                self.crossings.add((caller, module, frame.f_code.co_qualname))

    def _finish(self) -> None:
        self.done = True
        sys.setprofile(None)
        threading.setprofile(None)
        report = {
            "functions": len(self.functions),
            "modules": len({f[0] for f in self.functions}),
            "crossings": len(self.crossings),
            "to_service": self.to_service,
            "front_end": len([f for f in self.functions if f[0].startswith(FRONT_ENDS)]),
            "path": sorted(f"{m}:{q}" for m, q, _ in self.functions),
        }
        self.out.write_text(json.dumps(report, indent=1), encoding="utf-8")


def trace_main(argv: list[str]) -> None:
    out, flag, module, *rest = argv
    if flag != "-m":
        raise SystemExit("usage: python -m bench.prompt_hops trace OUT -m MODULE ARGS…")
    tracer = Tracer(Path(out))
    threading.setprofile(tracer)
    sys.setprofile(tracer)
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


# --- the driver ------------------------------------------------------------------------


def _env(state: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(
        LSP_AGENT_STATE_DIR=str(state),
        OPENAI_BASE_URL=base_url,
        OPENAI_MODEL="fake-model",
        OPENAI_API_KEY="sk-bench-hops",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    return env


def _trace_args(out: Path) -> tuple[str, ...]:
    return ("-m", "bench.prompt_hops", "trace", str(out))


async def lsp(root: Path, state: Path, base_url: str, out: Path) -> int:
    from bench.rpc import Daemon

    d = await Daemon.spawn(root, state, env=_env(state, base_url), python_args=_trace_args(out))
    try:
        await d.initialize({"model": {"baseUrl": base_url, "name": "fake-model"}})
        sid = await d.new_session()
        notes, asks = len(d.notifications), len(d.server_requests)
        result = await d.prompt(sid, "say hello")
        assert ANSWER in d.text_of(sid), result
        return 2 + (len(d.notifications) - notes) + 2 * (len(d.server_requests) - asks)
    finally:
        await d.stop()


async def acp(root: Path, state: Path, base_url: str, out: Path) -> int:
    from acp import PROTOCOL_VERSION, spawn_agent_process, text_block
    from acp.schema import ClientCapabilities

    frames: list[tuple[str, dict[str, Any]]] = []

    class Client:
        async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
            return None

    command = [sys.executable, *_trace_args(out), "-m", "lsp_agent", "acp"]
    async with spawn_agent_process(
        Client(),  # type: ignore[arg-type]
        *command,
        env=_env(state, base_url),
        cwd=root,
        observers=[lambda e: frames.append((e.direction.value, e.message))],
    ) as (conn, _process):
        await conn.initialize(
            protocol_version=PROTOCOL_VERSION, client_capabilities=ClientCapabilities()
        )
        sid = (await conn.new_session(cwd=str(root), mcp_servers=[])).session_id
        before = len(frames)
        result = await conn.prompt(session_id=sid, prompt=[text_block("say hello")])
        assert result.stop_reason == "end_turn", result
        return len(frames) - before


async def run() -> dict[str, dict[str, Any]]:
    from tests.fakes.model_server import FakeModelServer, text_reply

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as model:
        for name, drive in (("lsp", lsp), ("acp", acp)):
            base = Path(tmp) / name
            root = base / "ws"
            root.mkdir(parents=True)
            (root / ".lsp-agent.toml").write_text(
                '[model]\ncontextWindow = 32000\n[permissions]\nmode = "auto"\n',
                encoding="utf-8",
            )
            out = base / "hops.json"
            model.script(text_reply(ANSWER))
            messages = await drive(root, base / "state", model.base_url, out)
            hops = json.loads(out.read_text(encoding="utf-8"))
            results[name] = {"messages": messages, **hops}
    return results


def main() -> None:
    if sys.argv[1:2] == ["trace"]:
        trace_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print everything, with the paths")
    parser.add_argument("--path", action="store_true", help="also list the functions entered")
    args = parser.parse_args()
    results = asyncio.run(run())
    if args.json:
        print(json.dumps(results, indent=1))
        return
    columns = ("messages", "to_service", "front_end", "functions", "modules", "crossings")
    print(f"{'':<4}" + "".join(f"{c:>11}" for c in columns))
    for name, r in results.items():
        print(f"{name:<4}" + "".join(f"{r[c]!s:>11}" for c in columns))
    if args.path:
        for name, r in results.items():
            print(f"\n{name}:")
            print("\n".join(f"  {f}" for f in r["path"]))


if __name__ == "__main__":
    main()
