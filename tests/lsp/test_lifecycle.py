"""The daemon's life: stdout carries JSON-RPC only and secrets never reach the client; it
exits when the editor dies (killing its tool processes); sessions outlive it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from lsp_agent.server.uris import path_to_uri
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import (
    SECRET,
    RawConnection,
    init_options,
    leaked,
    process_exit,
    server_env,
    start,
    stop,
)
from tests.procs import running, sleep_marker, spawn_two, wait_gone

HERE = Path(__file__).parent
MARK = sleep_marker()


async def test_stdout_is_json_rpc_only_and_the_key_never_leaks(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    lsp_model.clear()
    (tmp_path / "ws").mkdir()
    command = [sys.executable, str(HERE / "noisy_server.py"), "--stdio", "--log-level", "debug"]
    agent = await start(tmp_path / "ws", tmp_path / "state", lsp_model, command=command)
    try:
        agent.server.script(
            tool_call_reply([("noisy", {"text": "noise"})]),
            tool_call_reply([("bash", {"command": "env; echo $OPENAI_API_KEY"})]),
            text_reply("done"),
        )
        agent.editor.permission_answers.append("allow_once")
        session = await agent.new_session()
        result = await agent.prompt(session, "make some noise")
        assert result["stopReason"] == "end_turn"
        noisy, shell = agent.editor.calls(session)
        assert noisy.output == "made noise"
        assert "PATH=" in shell.output  # the command ran, without the key in its env
        assert agent.client.error is None
        # the key reached the model server, and nothing else
        assert lsp_model.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"
    finally:
        await stop(agent)
    assert agent.client.error is None
    assert agent.editor.stray == []  # nothing but JSON-RPC on stdout, shutdown included
    assert leaked(agent.editor) == []


EDITOR = """
import subprocess, sys
server = subprocess.Popen(sys.argv[1:])
print("server-pid", server.pid, file=sys.stderr, flush=True)
server.wait()
"""


async def test_the_server_exits_when_the_editor_dies(
    tmp_path: Path, lsp_model: FakeModelServer
) -> None:
    """The editor (an intermediate parent) starts the server and passes its own pid as
    processId, then dies without a word: the server exits, killing its tool processes."""
    lsp_model.clear()
    lsp_model.script(tool_call_reply([("bash", {"command": spawn_two(MARK)})]))
    root, log = tmp_path / "ws", tmp_path / "server.log"
    root.mkdir()
    serve = [sys.executable, "-m", "lsp_agent", "serve", "--log-file", str(log)]
    editor = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        EDITOR,
        *serve,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=server_env(tmp_path / "state"),
    )
    assert editor.stdin is not None and editor.stdout is not None and editor.stderr is not None
    while not (line := await editor.stderr.readline()).startswith(b"server-pid"):
        assert line, "the editor died early"
    server_pid = int(line.split()[1])
    try:
        connection = RawConnection(editor.stdout, editor.stdin)
        options = init_options(lsp_model, {"permissions": {"mode": "auto"}})
        await connection.request(
            "initialize",
            {
                "processId": editor.pid,
                "rootUri": path_to_uri(root),
                "capabilities": {},
                "initializationOptions": {"lspAgent": options},
            },
        )
        connection.send({"method": "initialized", "params": {}})
        session = (await connection.request("agent/session/new", {}))["sessionId"]
        connection.send(
            {
                "id": "prompt",
                "method": "agent/session/prompt",
                "params": {"sessionId": session, "prompt": "run it"},
            }
        )
        await connection.until(lambda m: "started\\n" in json.dumps(m))  # the output
        assert len(running(MARK)) == 2

        editor.kill()
        await process_exit(editor.pid)
        await process_exit(server_pid)  # (editor.wait() would wait for the pipes it shares)
    finally:
        for pid in (editor.pid, server_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert wait_gone(MARK) == []  # the sandbox dies with the server (--die-with-parent)
    assert f"the editor (pid {editor.pid}) is gone: exiting" in log.read_text()


async def test_exit_code_says_whether_shutdown_came_first(tmp_path: Path) -> None:
    """LSP: `exit` after `shutdown` exits with 0, without it with 1."""
    (tmp_path / "ws").mkdir()
    codes = []
    for polite in (True, False):
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "lsp_agent", "serve", "--stdio"),
            *("--state-dir", str(tmp_path / "state")),
            cwd=tmp_path / "ws",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert proc.stdin is not None and proc.stdout is not None
        connection = RawConnection(proc.stdout, proc.stdin)
        await connection.request("initialize", {"processId": None, "capabilities": {}})
        if polite:
            await connection.request("shutdown", None)
        connection.send({"method": "exit"})
        async with asyncio.timeout(30):
            codes.append(await proc.wait())
    assert codes == [0, 1]
