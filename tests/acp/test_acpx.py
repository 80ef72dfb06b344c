"""A real third-party ACP client, the npm `acpx` headless CLI (0.19.1, installed by
scripts/test from tests/acp/acpx with the Node 22 it needs), drives the real
`lsp-agent acp` against the fake model server. `--format json` prints every JSON-RPC frame
acpx exchanged with the agent, one a line; the tests read those."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.acp.harness import SECRET, agent_env
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

BIN = Path(__file__).parent / "acpx" / "node_modules" / ".bin"
AGENT = f"{sys.executable} -m lsp_agent acp"
TIMEOUT_S = 120  # a bound on a hung client, not a timing assertion

pytestmark = pytest.mark.skipif(
    not (BIN / "acpx").exists() or not (BIN / "node").exists(),
    reason="needs tests/acp/acpx installed (./scripts/test does it)",
)


@dataclass
class Acpx:
    home: Path
    workspace: Path
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        base = [str(BIN / "acpx"), "--agent", AGENT, "--cwd", str(self.workspace)]
        return [*base, "--format", "json", "--ttl", "30", *args]

    def run(self, *args: str, code: int = 0) -> Frames:
        done = subprocess.run(
            self.command(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == code, done.stderr
        return Frames.parse(done.stdout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    def record(self) -> dict[str, Any]:
        (path,) = (self.home / ".acpx" / "sessions").glob("*.json")
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return record


@dataclass
class Frames:
    frames: list[dict[str, Any]]
    raw: str

    @classmethod
    def parse(cls, out: str) -> Frames:
        frames = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return cls([f for f in frames if f.get("jsonrpc") == "2.0"], out)

    def updates(self, kind: str) -> list[dict[str, Any]]:
        return [
            f["params"]["update"]
            for f in self.frames
            if f.get("method") == "session/update"
            and f["params"]["update"].get("sessionUpdate") == kind
        ]

    def text(self) -> str:
        return "".join(u["content"]["text"] for u in self.updates("agent_message_chunk"))

    def requests(self, method: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("method") == method and "id" in f]

    def result(self, method: str) -> dict[str, Any]:
        (request,) = self.requests(method)
        answer = next(f for f in self.frames if f.get("id") == request["id"] and "method" not in f)
        assert "result" in answer, answer
        result: dict[str, Any] = answer["result"]
        return result


@pytest.fixture
def acpx(tmp_path: Path, workspace: Path, state: Path, model: FakeModelServer) -> Iterator[Acpx]:
    home = tmp_path / "home"  # acpx keeps its sessions under ~/.acpx
    home.mkdir()
    env = agent_env(state, model)
    env["HOME"] = str(home)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # acpx's `#!/usr/bin/env node`
    client = Acpx(home, workspace, env)
    yield client
    if (home / ".acpx" / "sessions").is_dir():  # a persistent session's owner: end it
        subprocess.run(client.command("sessions", "close"), env=env, capture_output=True)


def test_a_prompt_streams_a_tool_call_and_the_answer(
    acpx: Acpx, workspace: Path, model: FakeModelServer
) -> None:
    (workspace / "notes.txt").write_text("remember the milk\n", encoding="utf-8")
    model.script(
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("The note says: remember the milk.", chunk_size=3),
    )
    out = acpx.run("--approve-all", "exec", "What does notes.txt say?")
    assert out.result("session/prompt")["stopReason"] == "end_turn"
    (call,) = out.updates("tool_call")
    assert call["kind"] == "read" and call["locations"] == [{"path": str(workspace / "notes.txt")}]
    # acpx offers fs/*: the read went through the client.
    assert [r["params"]["path"] for r in out.requests("fs/read_text_file")] == [
        str(workspace / "notes.txt")
    ]
    done = [u for u in out.updates("tool_call_update") if u.get("status") == "completed"]
    assert "remember the milk" in done[0]["content"][0]["content"]["text"]
    assert out.text() == "The note says: remember the milk."
    assert out.updates("usage_update")[-1]["size"] == 32000
    assert SECRET not in out.raw


def test_a_permission_round_trip(acpx: Acpx, workspace: Path, model: FakeModelServer) -> None:
    target = workspace / "a.py"
    target.write_text("x = 1\n", encoding="utf-8")
    edit = {"path": "a.py", "old_string": "x = 1", "new_string": "x = 2"}
    model.script(tool_call_reply([("edit_file", edit)]), text_reply("not allowed, fine"))
    denied = acpx.run("--deny-all", "exec", "make x 2", code=5)  # acpx: 5, permission denied
    (asked,) = denied.requests("session/request_permission")
    diff = next(c for c in asked["params"]["toolCall"]["content"] if c["type"] == "diff")
    assert diff["path"] == str(target) and diff["newText"] == "x = 2\n"
    assert {"allow_once", "reject_once"} <= {o["kind"] for o in asked["params"]["options"]}
    assert any(u.get("status") == "failed" for u in denied.updates("tool_call_update"))
    assert target.read_text(encoding="utf-8") == "x = 1\n"

    model.script(tool_call_reply([("edit_file", edit)]), text_reply("edited"))
    allowed = acpx.run("--approve-all", "exec", "make x 2")
    assert len(allowed.requests("session/request_permission")) == 1
    # acpx offers fs/write_text_file and writes the file itself, as an editor would.
    assert [w["params"]["content"] for w in allowed.requests("fs/write_text_file")] == ["x = 2\n"]
    assert target.read_text(encoding="utf-8") == "x = 2\n"


def test_a_slash_command(acpx: Acpx, model: FakeModelServer) -> None:
    out = acpx.run("exec", "/undo")
    commands = out.updates("available_commands_update")[-1]["availableCommands"]
    assert {"compact", "clear", "undo", "sessions"} <= {c["name"] for c in commands}
    assert out.text().startswith("Nothing to undo")
    assert model.chat_requests == []  # a slash command never reaches the model


def test_a_session_resumes_after_the_agent_restarts(acpx: Acpx, model: FakeModelServer) -> None:
    acpx.run("sessions", "new")
    model.script(text_reply("first answer"))
    first = acpx.run("prompt", "first question")
    assert first.text() == "first answer"
    # Kill the agent process acpx keeps for the session: the next prompt must start a new
    # one and continue the stored session, not begin an empty one.
    os.kill(acpx.record()["pid"], signal.SIGKILL)
    model.script(text_reply("second answer"))
    second = acpx.run("prompt", "second question")
    assert second.text() == "second answer"
    assert second.requests("session/resume") or second.requests("session/load")
    assert not second.requests("session/new")
    sent = [m["content"] for m in model.chat_requests[-1].body["messages"] if m["role"] == "user"]
    assert sent[-2:] == ["first question", "second question"]


def test_cancel_resolves_the_running_prompt(acpx: Acpx, model: FakeModelServer) -> None:
    acpx.run("sessions", "new")
    before = len(model.requests)
    model.script(text_reply("never finished", stall_after=2))
    running = acpx.start("prompt", "take your time")
    try:
        assert model.wait_for_requests(before + 2, timeout=TIMEOUT_S)  # /models, then chat
        acpx.run("cancel")
        out, err = running.communicate(timeout=TIMEOUT_S)
    finally:
        if running.poll() is None:
            running.kill()
            running.communicate()
    assert Frames.parse(out).result("session/prompt")["stopReason"] == "cancelled", err
