"""MCP servers' tools through the real CLI against the fake model server, with a real
stdio MCP server written with the same SDK (tests/mcp/servers/demo.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")
DEMO = str(Path(__file__).parent / "servers" / "demo.py")
SECRET = "not-a-secret-looking-value-93f1c2"  # by its name the generic redactor misses it


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    path = tmp_path / "marks"
    path.mkdir()
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    clean |= {"OPENAI_API_KEY": "sk-mcp-test-0123456789", "NO_COLOR": "1"}
    clean |= {"DEMO_PLAIN": SECRET, "LEAKY_VAR": "leaked-from-the-agent-env"}
    clean["LSP_AGENT_STATE_DIR"] = str(tmp_path / "state")
    return clean


def configure(workspace: Path, marks: Path, extra: str = "") -> None:
    (workspace / ".lsp-agent.toml").write_text(
        "[mcp.servers.demo]\n"
        f"command = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(DEMO)}]\n"
        f"env = {{ DEMO_MARKS = {json.dumps(str(marks))}, DEMO_VALUE = '${{DEMO_PLAIN}}' }}\n"
        + extra
    )


def command(server: FakeModelServer, workspace: Path, mode: str) -> list[str]:
    return [
        LSP_AGENT, "run", "use the tools", "--workspace", str(workspace), "--json",
        "--base-url", server.base_url, "--permission-mode", mode,
    ]  # fmt: skip


def run(
    server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
    mode: str = "auto",
    answer: str = "",
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(server, workspace, mode),
        input=answer,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def events(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def tool_results(server: FakeModelServer) -> list[str]:
    last = server.chat_requests[-1].body["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


def test_a_call_reaches_the_server_in_the_workspace_with_a_clean_env(
    model_server: FakeModelServer, workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks)
    model_server.script(
        tool_call_reply(
            [
                ("mcp__demo__echo", {"text": "hello"}),
                ("mcp__demo__env", {"name": "LEAKY_VAR"}),
                ("mcp__demo__picture", {}),
            ]
        ),
        text_reply("done"),
    )
    result = run(model_server, workspace, env)
    assert result.returncode == 0, result.stderr
    echo, leaky, picture = tool_results(model_server)
    assert "echo: hello" in echo and f"cwd {workspace}" in echo
    assert leaky == "<unset>"  # the agent's environment does not leak into the server
    assert "a caption" in picture and "[image image/png" in picture
    tools = {t["function"]["name"]: t for t in model_server.chat_requests[0].body["tools"]}
    schema = tools["mcp__demo__echo"]["function"]["parameters"]
    assert schema["properties"]["text"]["type"] == "string"
    assert schema["required"] == ["text"]


def test_var_references_are_expanded_at_launch_and_never_stored_or_printed(
    model_server: FakeModelServer,
    workspace: Path,
    marks: Path,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    configure(workspace, marks)
    model_server.script(
        tool_call_reply([("mcp__demo__env", {"name": "DEMO_VALUE"})]), text_reply("done")
    )
    result = run(model_server, workspace, env)
    assert result.returncode == 0, result.stderr
    (seen,) = tool_results(model_server)
    assert SECRET not in seen and "REDACTED" in seen.upper()  # the server got it: redacted
    assert SECRET not in result.stdout and SECRET not in result.stderr
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "${DEMO_PLAIN}" in (workspace / ".lsp-agent.toml").read_text()


def test_a_crash_restarts_the_server_once(
    model_server: FakeModelServer, workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks)
    model_server.script(
        tool_call_reply([("mcp__demo__crash", {})]),
        tool_call_reply([("mcp__demo__echo", {"text": "again"})]),
        tool_call_reply([("mcp__demo__crash", {})]),
        tool_call_reply([("mcp__demo__echo", {"text": "third"})]),
        text_reply("done"),
    )
    result = run(model_server, workspace, env)
    assert result.returncode == 0, result.stderr
    first, again, second, third = tool_results(model_server)
    assert "exited during the call; it was restarted" in first
    assert "echo: again" in again
    assert "not restarted again" in second
    assert "not running" in third
    assert len(list(marks.glob("crash-*"))) == 2  # two processes: the first and one restart


def test_a_server_that_fails_to_start_is_reported_and_the_run_goes_on(
    model_server: FakeModelServer, workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks, "[mcp.servers.broken]\ncommand = '/nonexistent/mcp-server'\n")
    model_server.script(
        tool_call_reply([("mcp__demo__echo", {"text": "still here"})]), text_reply("done")
    )
    result = run(model_server, workspace, env)
    assert result.returncode == 0, result.stderr
    (started,) = [e for e in events(result) if e["type"] == "run_started"]
    notes = started["notes"]
    assert isinstance(notes, list) and len(notes) == 1
    assert "MCP server 'broken' is unavailable" in notes[0] and "nonexistent" in notes[0]
    assert "echo: still here" in tool_results(model_server)[0]
    names = [t["function"]["name"] for t in model_server.chat_requests[0].body["tools"]]
    assert not any(n.startswith("mcp__broken__") for n in names)


def test_a_destructive_tool_is_asked_even_in_auto_mode(
    model_server: FakeModelServer, workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks)
    model_server.script(
        tool_call_reply([("mcp__demo__wipe", {"target": "everything"})]), text_reply("done")
    )
    result = run(model_server, workspace, env, mode="auto", answer="n\n")
    assert result.returncode == 0, result.stderr
    assert "destructive MCP tool" in result.stderr  # the prompt was shown
    assert not (marks / "wiped").exists()
    assert "denied" in tool_results(model_server)[0]


def test_rules_name_mcp_tools_with_a_glob(
    model_server: FakeModelServer, workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks, "[permissions]\ndeny = ['mcp__demo__ech*']\n")
    model_server.script(
        tool_call_reply([("mcp__demo__echo", {"text": "no"}), ("mcp__demo__fail", {})]),
        text_reply("done"),
    )
    result = run(model_server, workspace, env, mode="auto")
    assert result.returncode == 0, result.stderr
    echo, fail = tool_results(model_server)
    assert "Denied by rule deny: mcp__demo__ech*" in echo
    assert "Error executing tool fail" in fail  # a tool error goes back to the model


def test_cancel_during_a_slow_tool_cancels_the_mcp_request(
    model_server: FakeModelServer, workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks)
    model_server.script(tool_call_reply([("mcp__demo__slow", {})]), text_reply("done"))
    proc = subprocess.Popen(
        command(model_server, workspace, "auto"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not (marks / "slow-started").exists():  # waits on a condition, not a duration
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    finished = [json.loads(x) for x in out.splitlines() if '"run_finished"' in x]
    assert finished and finished[-1]["stop_reason"] == "cancelled", err
    assert (marks / "slow-cancelled").exists()  # the server got MCP's cancellation


def test_mcp_list_shows_each_server_its_status_and_tools(
    workspace: Path, marks: Path, env: dict[str, str]
) -> None:
    configure(workspace, marks, "[mcp.servers.broken]\ncommand = '/nonexistent/mcp-server'\n")
    listing = [LSP_AGENT, "mcp", "list", "--json", "--workspace", str(workspace)]
    result = subprocess.run(listing, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1  # a server fails: the exit status says so
    demo, broken = (json.loads(line) for line in result.stdout.splitlines())
    assert demo["name"] == "demo" and demo["status"] == "running"
    assert {"mcp__demo__echo", "mcp__demo__wipe"} <= set(demo["tools"])
    assert broken["status"] == "failed" and "nonexistent" in broken["error"]


def test_a_server_in_the_user_config_file_serves_every_workspace(
    workspace: Path, marks: Path, env: dict[str, str], tmp_path: Path
) -> None:
    configure(workspace, marks)
    user_file = tmp_path / "user-config.toml"
    (workspace / ".lsp-agent.toml").rename(user_file)  # the same server, now the user's
    env["LSP_AGENT_CONFIG"] = str(user_file)
    listing = [LSP_AGENT, "mcp", "list", "--json", "--workspace", str(workspace)]
    result = subprocess.run(listing, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    (demo,) = (json.loads(line) for line in result.stdout.splitlines())
    assert demo["name"] == "demo" and demo["status"] == "running"
    assert "mcp__demo__echo" in demo["tools"]
