"""`lsp-agent run` and `doctor` as a user runs them: a real process against the fake server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_agent.agent.events import event_adapter
from tests.fakes.model_server import (
    FakeModelServer,
    context_overflow_reply,
    error_reply,
    text_reply,
    tool_call_reply,
)
from tests.procs import running, sleep_marker, spawn_two, wait_gone

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")
SECRET = "sk-e2e-SECRET-4f9a8b7c6d5e"
MARK = sleep_marker()
MCP_MARK = f"mcp-{MARK}"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("one\ntwo\n")
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, SECRET)


def cli_env(tmp_path: Path, key: str) -> dict[str, str]:
    """The CLI's environment in a test: no OPENAI_* of the developer's, this key, no colour,
    and a state dir of the test's own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    clean["OPENAI_API_KEY"] = key
    clean["NO_COLOR"] = "1"
    clean["LSP_AGENT_STATE_DIR"] = str(tmp_path / "state")
    return clean


def cli(
    server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
    *args: str,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    command = [LSP_AGENT, *args, "--workspace", str(workspace), "--base-url", server.base_url]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_run_streams_answer_tool_lines_and_summary(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.script(
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("The notes count to two."),
    )
    result = cli(model_server, workspace, env, "run", "read the notes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The notes count to two."
    assert "✓ Read notes.txt" in result.stderr
    assert "end_turn · 2 turns · 1 tool call" in result.stderr


def test_json_mode_prints_one_event_per_line(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.script(tool_call_reply([("list_dir", {})]), text_reply("Listed."))
    result = cli(model_server, workspace, env, "run", "list", "--json")
    assert result.returncode == 0, result.stderr
    events = [event_adapter.validate_json(line) for line in result.stdout.splitlines()]
    types = [e.type for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert {"tool_call", "tool_call_update", "tool_call_finished", "text_delta", "usage"} <= set(
        types
    )


def edit_script(server: FakeModelServer, edits: int) -> None:
    calls = [
        tool_call_reply([("write_file", {"path": f"f{i}.txt", "content": f"{i}\n"})])
        for i in range(edits)
    ]
    server.script(*calls, text_reply("done"))


@pytest.mark.parametrize(
    ("answers", "written"),
    [
        ("y\ny\n", ["f0.txt", "f1.txt"]),
        ("y\nn\n", ["f0.txt"]),
        ("n\ny\n", ["f1.txt"]),
        ("a\n", ["f0.txt", "f1.txt"]),  # always: the second edit is not asked
        ("", []),  # end of input: denied
        ("maybe\nsure\n", []),  # anything but yes/always is a no
    ],
)
def test_terminal_permission_prompt(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
    answers: str,
    written: list[str],
) -> None:
    edit_script(model_server, 2)
    result = cli(model_server, workspace, env, "run", "write", stdin=answers)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in workspace.glob("f*.txt")) == written
    asked = result.stderr.count("[y]es / [n]o / [a]lways")
    assert asked == (1 if answers == "a\n" else 2)
    assert "+++ b/f0.txt" in result.stderr  # the diff is shown before asking


def test_permission_mode_flag(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    edit_script(model_server, 1)
    result = cli(model_server, workspace, env, "run", "w", "--permission-mode", "read-only")
    assert result.returncode == 0
    assert not (workspace / "f0.txt").exists()
    assert "⊘" in result.stderr and "[y]es" not in result.stderr


@pytest.mark.parametrize(
    ("script", "args", "code"),
    [
        ([tool_call_reply([("list_dir", {})])] * 3, ["--max-turns", "2"], 3),
        ([error_reply(401, "bad key")], [], 1),
        ([context_overflow_reply()] * 3, [], 4),
    ],
)
def test_exit_codes(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
    script: list[object],
    args: list[str],
    code: int,
) -> None:
    model_server.script(*script)  # type: ignore[arg-type]
    result = cli(model_server, workspace, env, "run", "go", *args)
    assert result.returncode == code, result.stderr


def test_invalid_configuration_names_the_key(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    (workspace / ".lsp-agent.toml").write_text('[limits]\nmaxTurns = "many"\n')
    result = cli(model_server, workspace, env, "run", "go")
    assert result.returncode == 2
    assert "limits.maxTurns" in result.stderr and ".lsp-agent.toml" in result.stderr
    assert not model_server.chat_requests


def test_missing_workspace_is_a_usage_error(
    model_server: FakeModelServer, tmp_path: Path, env: dict[str, str]
) -> None:
    result = cli(model_server, tmp_path / "nope", env, "run", "go")
    assert result.returncode == 2 and "--workspace" in result.stderr


def test_api_key_never_printed(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.script(
        tool_call_reply([("bash", {"command": "env; echo key=$OPENAI_API_KEY"})]),
        error_reply(401, f"Incorrect API key provided: {SECRET}"),
    )
    for extra in ([], ["--json"]):
        model_server.clear()
        model_server.script(
            tool_call_reply([("bash", {"command": "env; echo key=$OPENAI_API_KEY"})]),
            error_reply(401, f"Incorrect API key provided: {SECRET}"),
        )
        result = cli(
            model_server, workspace, env, "run", "leak", "--permission-mode", "auto", *extra
        )
        assert result.returncode == 1
        assert "PATH=" in result.stdout + result.stderr  # the command did run
        assert SECRET not in result.stdout + result.stderr
    assert model_server.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"
    tool_output = model_server.chat_requests[-1].body["messages"][-1]["content"]
    assert "key=\n" in tool_output or tool_output.rstrip().endswith("key=")
    assert SECRET not in json.dumps(model_server.chat_requests[-1].body)


def _lines(stream: object) -> Iterator[str]:
    yield from iter(stream.readline, "")  # type: ignore[attr-defined]


def start_run(
    server: FakeModelServer, workspace: Path, env: dict[str, str], prompt: str
) -> subprocess.Popen[str]:
    """`lsp-agent run PROMPT` in the background, tools allowed, its output piped."""
    command = [LSP_AGENT, "run", prompt, "--workspace", str(workspace)]
    command += ["--base-url", server.base_url, "--permission-mode", "auto"]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_ctrl_c_cancels_cleanly_and_kills_the_shell(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.script(
        tool_call_reply([("bash", {"command": spawn_two(MARK)})]),
    )
    proc = start_run(model_server, workspace, env, "sleep")
    try:
        assert any(line.startswith("started") for line in _lines(proc.stderr))
        assert len(running(MARK)) == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        rest = proc.stderr.read() if proc.stderr else ""
        assert "cancelled" in rest
        assert running(MARK) == []  # the setsid one too
    finally:
        proc.kill()
        proc.wait()


def test_doctor_reports_ok(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.models = ["fake-model"]
    result = cli(model_server, workspace, env, "doctor", "--model", "fake-model")
    assert result.returncode == 0, result.stdout
    assert "endpoint reachable" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_doctor_names_problems_with_fixes(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.models = ["other-model"]
    result = cli(model_server, workspace, env, "doctor", "--model", "fake-model")
    assert result.returncode == 1
    problem = next(line for line in result.stdout.splitlines() if line.startswith("problem"))
    assert "other-model" in problem and "--model" in problem


def test_doctor_unreachable_endpoint(workspace: Path, env: dict[str, str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [LSP_AGENT, "doctor", "--workspace", str(workspace)]
    command += ["--base-url", f"http://127.0.0.1:{port}/v1"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert any(line.startswith("problem") for line in result.stdout.splitlines())


URL_USER, URL_PW, URL_KEY, URL_TOKEN = (
    "alice-URLUSER",
    "pw-URLPASS-93c1",
    "KEY-9d8e7f6a",
    "TOK-5b4a3c2d",
)


def _secret_url(host_port: str) -> str:
    return f"http://{URL_USER}:{URL_PW}@{host_port}/v1?key={URL_KEY}&Access_Token={URL_TOKEN}"


def _assert_no_url_secrets(result: subprocess.CompletedProcess[str]) -> None:
    out = result.stdout + result.stderr
    for secret in (URL_USER, URL_PW, URL_KEY, URL_TOKEN, SECRET):
        assert secret not in out, out
    assert "[redacted]" in result.stdout, result.stdout  # the URL is shown, redacted


@pytest.mark.parametrize("models", [["fake-model"], ["other-model"]])
def test_doctor_redacts_credentials_in_a_reachable_base_url(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], models: list[str]
) -> None:
    model_server.models = models
    host_port = model_server.base_url.split("//", 1)[1].split("/", 1)[0]
    command = [LSP_AGENT, "doctor", "--model", "fake-model", "--workspace", str(workspace)]
    command += ["--base-url", _secret_url(host_port)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    _assert_no_url_secrets(result)
    if models == ["fake-model"]:
        assert result.returncode == 0, result.stdout
        assert "endpoint reachable" in result.stdout
    # The credentials still go to the server: the key in the query, the userinfo as auth.
    listed = [r for r in model_server.requests if r.route == "/models"]
    assert listed and f"key={URL_KEY}" in listed[0].path


def test_doctor_redacts_credentials_in_an_unreachable_base_url(
    workspace: Path, env: dict[str, str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [LSP_AGENT, "doctor", "--workspace", str(workspace)]
    command += ["--base-url", _secret_url(f"127.0.0.1:{port}")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert any(line.startswith("problem") for line in result.stdout.splitlines())
    _assert_no_url_secrets(result)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _stuck_mcp_server(workspace: Path) -> None:
    """An MCP server that starts (says so on stderr, which the CLI passes on) and never
    answers `initialize`, nor stdin closing, nor SIGTERM; MCP_MARK is one of its arguments."""
    code = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('mcp-started', file=sys.stderr, flush=True); time.sleep(300)"
    )
    (workspace / ".lsp-agent.toml").write_text(
        f"[mcp.servers.stuck]\ncommand = {json.dumps(sys.executable)}\n"
        f"args = ['-c', {json.dumps(code)}, {json.dumps(MCP_MARK)}]\n"
    )


@pytest.mark.parametrize("signals", [1, 2])
@pytest.mark.parametrize("where", ["mcp-start", "shell"])
def test_ctrl_c_while_stuck_exits_130_and_leaves_no_process(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], where: str, signals: int
) -> None:
    """The first Ctrl-C cancels (even while an MCP server is still starting), a second
    one exits at once; either way nothing the run started is left (its group, the MCP
    server in its own session, the commands)."""
    if where == "mcp-start":
        _stuck_mcp_server(workspace)
        ready, marker = "mcp-started", MCP_MARK
    else:
        stubborn = f"trap '' TERM INT; {spawn_two(MARK)}"
        model_server.script(tool_call_reply([("bash", {"command": stubborn})]))
        ready, marker = "started", MARK
    command = [LSP_AGENT, "run", "go", "--workspace", str(workspace)]
    command += ["--base-url", model_server.base_url, "--permission-mode", "auto"]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own group, to check that none of it is left
    )
    try:
        assert any(line.startswith(ready) for line in _lines(proc.stderr))
        assert running(marker)
        for _ in range(signals):
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130  # a hang guard, not a timing assertion
        assert wait_gone(marker) == []
        assert _group_gone(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
