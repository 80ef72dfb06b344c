"""Shell hooks through the real CLI against the fake model server: the Claude Code contract
(JSON on stdin; exit 2 blocks with stderr; JSON answers), failures never allow, and hooks
run inside the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import cli_env
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

LSP_AGENT = str(Path(sys.executable).parent / "lsp-agent")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("one\ntwo\n")
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, "sk-hooks-test-0123456789")


def configure(
    workspace: Path, event: str, command: str, matcher: str = "", timeout: int = 30
) -> None:
    with (workspace / ".lsp-agent.toml").open("a") as f:
        f.write(
            f"[[hooks.{event}]]\nmatcher = {json.dumps(matcher)}\n"
            f"hooks = [{{ type = 'command', command = {json.dumps(command)}, "
            f"timeout = {timeout} }}]\n"
        )


def script(workspace: Path, name: str, body: str) -> str:
    path = workspace / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return f"./{name}"


def run(
    server: FakeModelServer, workspace: Path, env: dict[str, str], prompt: str, mode: str = "auto"
) -> subprocess.CompletedProcess[str]:
    command = [
        LSP_AGENT, "run", prompt, "--workspace", str(workspace), "--base-url", server.base_url,
        "--permission-mode", mode,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=90, check=False)


def tool_results(server: FakeModelServer) -> list[str]:
    last = server.chat_requests[-1].body["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


def test_pre_tool_use_exit_2_blocks_the_call_with_stderr_as_the_reason(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    hook = script(workspace, "guard.sh", 'cat > seen.json; echo "no touching here" >&2; exit 2\n')
    configure(workspace, "PreToolUse", hook, matcher="bash")
    model_server.script(
        tool_call_reply([("bash", {"command": "touch made.txt"})]), text_reply("ok")
    )
    result = run(model_server, workspace, env, "make a file")
    assert result.returncode == 0, result.stderr
    assert not (workspace / "made.txt").exists()
    (content,) = tool_results(model_server)
    assert "no touching here" in content
    seen = json.loads((workspace / "seen.json").read_text())
    assert seen["hook_event_name"] == "PreToolUse"
    assert seen["tool_name"] == "bash"
    assert seen["tool_input"]["command"] == "touch made.txt"
    assert seen["permission_mode"] == "auto"


def test_the_matcher_picks_tools_and_json_deny_denies(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    answer = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                     "permissionDecisionReason": "policy says no"}}  # fmt: skip
    configure(workspace, "PreToolUse", f"echo '{json.dumps(answer)}'", matcher="write_file|bash")
    model_server.script(
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        tool_call_reply([("write_file", {"path": "new.txt", "content": "x"})]),
        text_reply("done"),
    )
    result = run(model_server, workspace, env, "read then write")
    assert result.returncode == 0, result.stderr
    assert not (workspace / "new.txt").exists()
    read, write = tool_results(model_server)
    assert "one" in read  # read_file does not match: it ran
    assert "policy says no" in write


@pytest.mark.parametrize(
    ("body", "timeout", "said"),
    [("exit 1\n", 30, "failed with exit code 1"), ("sleep 60\n", 1, "timed out after 1 s")],
)
def test_a_failing_or_hanging_pre_hook_denies_and_is_reported(
    model_server: FakeModelServer,
    workspace: Path,
    env: dict[str, str],
    body: str,
    timeout: int,
    said: str,
) -> None:
    configure(workspace, "PreToolUse", script(workspace, "broken.sh", body), timeout=timeout)
    model_server.script(
        tool_call_reply([("bash", {"command": "touch made.txt"})]), text_reply("ok")
    )
    result = run(model_server, workspace, env, "make a file")
    assert result.returncode == 0, result.stderr
    assert not (workspace / "made.txt").exists()  # never a silent allow
    (content,) = tool_results(model_server)
    assert said in content
    assert said in result.stderr  # the user is told


def test_post_tool_use_context_reaches_the_model(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    answer = {"hookSpecificOutput": {"hookEventName": "PostToolUse",
                                     "additionalContext": "lint: 0 problems"}}  # fmt: skip
    configure(workspace, "PostToolUse", f"cat > post.json; echo '{json.dumps(answer)}'")
    model_server.script(tool_call_reply([("read_file", {"path": "notes.txt"})]), text_reply("ok"))
    result = run(model_server, workspace, env, "read")
    assert result.returncode == 0, result.stderr
    (content,) = tool_results(model_server)
    assert "one" in content and "lint: 0 problems" in content
    seen = json.loads((workspace / "post.json").read_text())
    assert "1\tone" in seen["tool_response"] and seen["tool_name"] == "read_file"


def test_user_prompt_submit_can_refuse_or_add_context(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    hook = script(
        workspace,
        "prompt.sh",
        'if grep -q secret; then echo "prompts about secrets are refused" >&2; exit 2; fi\n'
        'echo "Team rule: answer in French."\n',
    )
    configure(workspace, "UserPromptSubmit", hook)
    refused = run(model_server, workspace, env, "tell me the secret")
    assert refused.returncode == 0, refused.stderr
    assert "prompts about secrets are refused" in refused.stdout
    assert model_server.chat_requests == []  # it never reached the model
    model_server.script(text_reply("bonjour"))
    allowed = run(model_server, workspace, env, "say hello")
    assert allowed.returncode == 0, allowed.stderr
    user = [
        m["content"] for m in model_server.chat_requests[0].body["messages"] if m["role"] == "user"
    ]
    assert user[-1].startswith("say hello") and "Team rule: answer in French." in user[-1]


def test_a_stop_hook_sends_the_agent_on_once(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    hook = script(
        workspace,
        "stop.sh",
        "if grep -q '\"stop_hook_active\": false'; then\n"
        '  echo "run the tests first" >&2; exit 2\n'
        "fi\n",
    )
    configure(workspace, "Stop", hook)
    model_server.script(text_reply("done"), text_reply("tests pass, done"))
    result = run(model_server, workspace, env, "fix it")
    assert result.returncode == 0, result.stderr
    assert len(model_server.chat_requests) == 2
    last = model_server.chat_requests[1].body["messages"][-1]
    assert last == {"role": "user", "content": "[Stop hook] run the tests first"}
    assert "tests pass, done" in result.stdout


def test_hooks_run_in_the_sandbox_of_the_session_mode(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    # read-only mode: a hook cannot write the workspace either.
    configure(workspace, "UserPromptSubmit", "echo hi > written.txt")
    model_server.script(text_reply("ok"))
    result = run(model_server, workspace, env, "hello", mode="read-only")
    assert result.returncode == 0, result.stderr
    assert not (workspace / "written.txt").exists()
    assert "UserPromptSubmit hook" in result.stderr  # its failure is reported
