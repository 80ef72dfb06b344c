"""Sessions from the command line: list/show/delete, --resume/--continue, undo, a kill -9
mid-run then resume, a corrupt store, and no secrets in the store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lsp_agent.store import INTERRUPTED
from tests.e2e.test_cli import LSP_AGENT, SECRET, start_run
from tests.fakes.model_server import FakeModelServer, error_reply, text_reply, tool_call_reply
from tests.procs import running, sleep_marker, spawn_two, wait_gone

MARK = sleep_marker()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "notes.txt").write_text("one\ntwo\n")
    return root.resolve()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def env(state: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LSP_AGENT_"))}
    clean["OPENAI_API_KEY"] = SECRET
    clean["NO_COLOR"] = "1"
    clean["LSP_AGENT_STATE_DIR"] = str(state)
    return clean


def lsp(
    env: dict[str, str], cwd: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LSP_AGENT, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def run(
    server: FakeModelServer, env: dict[str, str], workspace: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    flags = ["--workspace", str(workspace), "--base-url", server.base_url]
    return lsp(env, workspace, "run", *args, *flags, "--permission-mode", "auto")


def session_id(result: subprocess.CompletedProcess[str]) -> str:
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("session "), result.stderr
    return line.split()[1]


def sent(server: FakeModelServer, index: int = -1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = server.chat_requests[index].body["messages"]
    return messages


def roles(messages: list[dict[str, Any]]) -> list[str]:
    return [m["role"] for m in messages]


# --- sessions list / show / delete ------------------------------------------------------------


def test_sessions_list_show_delete(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.script(
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("The notes count to two."),
        text_reply("elsewhere"),
    )
    first = run(model_server, env, workspace, "Read the notes\nand count them")
    assert first.returncode == 0, first.stderr
    sid = session_id(first)
    other = workspace.parent / "other"
    other.mkdir()
    run(model_server, env, other, "there")  # a session of another workspace

    listed = lsp(env, workspace, "sessions", "list")
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()  # this workspace's only
    assert line.startswith(sid) and line.endswith("Read the notes") and "1 turns" in line
    everywhere = lsp(env, workspace, "sessions", "list", "--all").stdout.splitlines()
    assert len(everywhere) == 2 and everywhere[0].endswith("there  " + str(other))

    shown = lsp(env, workspace, "sessions", "show", sid[:6])  # a unique prefix will do
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert f"session {sid} · Read the notes" in out
    assert "▶ user\n  Read the notes\n  and count them" in out
    assert '  → read_file {"path": "notes.txt"}' in out
    assert "  ← result" in out and "1\tone" in out
    assert "◀ assistant\n  The notes count to two." in out
    assert out.index("▶ user") < out.index("→ read_file") < out.index("← result")

    deleted = lsp(env, workspace, "sessions", "delete", sid)
    assert deleted.returncode == 0 and f"deleted session {sid}" in deleted.stdout
    remaining = lsp(env, workspace, "sessions", "list", "--all").stdout
    assert sid not in remaining and "there" in remaining
    gone = lsp(env, workspace, "sessions", "show", sid)
    assert gone.returncode == 2 and "no session" in gone.stderr


# --- resume -------------------------------------------------------------------------------


def test_resume_and_continue_send_the_earlier_transcript(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], tmp_path: Path
) -> None:
    model_server.script(text_reply("one"), text_reply("two"), text_reply("three"))
    elsewhere = ["--state-dir", str(tmp_path / "elsewhere")]  # wins over $LSP_AGENT_STATE_DIR

    nothing = run(model_server, env, workspace, "go", "--continue", *elsewhere)
    assert nothing.returncode == 2 and "no session to continue" in nothing.stderr
    sid = session_id(run(model_server, env, workspace, "first", *elsewhere))
    unknown = run(model_server, env, workspace, "go", "--resume", "zzzz", *elsewhere)
    assert unknown.returncode == 2 and "no session 'zzzz'" in unknown.stderr

    resumed = run(model_server, env, workspace, "second", "--resume", sid[:8], *elsewhere)
    assert resumed.returncode == 0, resumed.stderr
    assert session_id(resumed) == sid
    assert [(m["role"], m["content"]) for m in sent(model_server)[1:]] == [
        ("user", "first"),
        ("assistant", "one"),
        ("user", "second"),
    ]

    continued = run(model_server, env, workspace, "third", "--continue", *elsewhere)
    assert continued.returncode == 0, continued.stderr
    assert session_id(continued) == sid
    assert [m["content"] for m in sent(model_server)[1:]] == [
        "first",
        "one",
        "second",
        "two",
        "third",
    ]
    assert sent(model_server)[0] == sent(model_server, 0)[0]  # the same system prompt
    assert len(model_server.chat_requests) == 3
    assert (tmp_path / "elsewhere" / "sessions.db").is_file()
    assert not Path(env["LSP_AGENT_STATE_DIR"]).exists()


def test_compact_and_clear_commands(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    (workspace / "notes.txt").write_text("a long line of notes\n" * 200)
    model_server.script(
        tool_call_reply([("read_file", {"path": "notes.txt"})]),
        text_reply("Many notes."),
        text_reply("- read notes.txt: many notes"),  # the summary /compact asks for
        text_reply("Fresh."),
    )
    run(model_server, env, workspace, "read the notes")
    compacted = run(model_server, env, workspace, "/compact", "--continue")
    assert compacted.returncode == 0, compacted.stderr
    assert "older turns summarized" in compacted.stderr
    assert "tools" not in model_server.chat_requests[-1].body

    cleared = run(model_server, env, workspace, "/clear", "--continue")
    assert cleared.returncode == 0 and "conversation cleared" in cleared.stderr
    assert len(model_server.chat_requests) == 3  # /clear asks the model nothing

    fresh = run(model_server, env, workspace, "start over", "--continue")
    assert fresh.returncode == 0, fresh.stderr
    assert roles(sent(model_server)) == ["system", "user"]
    shown = lsp(env, workspace, "sessions", "show", session_id(fresh)).stdout
    assert "read the notes" in shown and "start over" in shown  # the store keeps it all


# --- undo ---------------------------------------------------------------------------------------


def test_undo_turns_conflicts_and_force(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], state: Path
) -> None:
    notes = workspace / "notes.txt"
    model_server.script(
        tool_call_reply(
            [("edit_file", {"path": "notes.txt", "old_string": "one", "new_string": "ONE"})]
        ),
        text_reply("turn 1"),
        tool_call_reply([("write_file", {"path": "new.txt", "content": "new\n"})]),
        text_reply("turn 2"),
        tool_call_reply(
            [("edit_file", {"path": "notes.txt", "old_string": "two", "new_string": "TWO"})]
        ),
        text_reply("turn 3"),
    )
    run(model_server, env, workspace, "edit one")
    run(model_server, env, workspace, "create", "--continue")
    run(model_server, env, workspace, "edit two", "--continue")
    assert notes.read_text() == "ONE\nTWO\n" and (workspace / "new.txt").exists()

    # The user changes a file the last turn edited: undo refuses and names it.
    notes.write_text("ONE\nTWO\nmine\n")
    refused = lsp(env, workspace, "undo")
    assert refused.returncode == 1
    assert str(notes) in refused.stderr and "--force" in refused.stderr
    assert notes.read_text() == "ONE\nTWO\nmine\n"

    forced = lsp(env, workspace, "undo", "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"reverted {notes}" in forced.stdout
    assert notes.read_text() == "ONE\ntwo\n"  # only the last turn was undone

    two = lsp(env, workspace, "undo", "--turns", "2")
    assert two.returncode == 0, two.stderr
    assert f"deleted  {workspace / 'new.txt'}" in two.stdout
    assert notes.read_text() == "one\ntwo\n" and not (workspace / "new.txt").exists()

    assert lsp(env, workspace, "undo").stdout.strip() == "nothing to undo"


# --- kill -9 mid-run, then resume ---------------------------------------------------------------


def test_kill_9_mid_run_then_continue(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str]
) -> None:
    model_server.script(
        tool_call_reply([("bash", {"command": spawn_two(MARK)})]),
        text_reply("resumed fine"),
    )
    proc = start_run(model_server, workspace, env, "sleepy work")
    try:
        assert proc.stderr is not None
        assert any(line.startswith("started") for line in iter(proc.stderr.readline, ""))
        assert len(running(MARK)) == 2
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        # The sandbox dies with its parent (--die-with-parent), setsid children included.
        left = wait_gone(MARK)
    finally:
        proc.kill()
        proc.wait()
        for pid in running(MARK):  # don't leak processes if the test failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert left == []

    resumed = run(model_server, env, workspace, "go on", "--continue")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed fine" in resumed.stdout and "end_turn" in resumed.stderr
    messages = sent(model_server)
    assert roles(messages) == ["system", "user", "assistant", "tool", "user"]
    assert messages[1]["content"] == "sleepy work"
    (call,) = messages[2]["tool_calls"]
    assert call["function"]["name"] == "bash" and "sleep 300" in call["function"]["arguments"]
    assert messages[3] == {"role": "tool", "tool_call_id": call["id"], "content": INTERRUPTED}
    assert messages[4]["content"] == "go on"

    shown = lsp(env, workspace, "sessions", "show", session_id(resumed))
    assert "interrupted" in shown.stdout and "resumed fine" in shown.stdout


# --- the store file -------------------------------------------------------------------------------


def test_a_corrupt_store_is_a_clear_error_and_left_alone(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], state: Path
) -> None:
    state.mkdir()
    store = state / "sessions.db"
    garbage = b"this is not an sqlite database\x00\xff" * 200
    store.write_bytes(garbage)
    for command in (["sessions", "list"], ["run", "go", "--base-url", "x"]):
        if command[0] == "run":
            command[-1] = model_server.base_url
        result = lsp(env, workspace, *command)
        assert result.returncode == 2, command
        assert str(store) in result.stderr, command
        assert "not a readable lsp-agent session store" in result.stderr
        assert "Traceback" not in result.stderr
        assert store.read_bytes() == garbage
        assert sorted(p.name for p in state.iterdir()) == ["sessions.db"]
    assert not model_server.chat_requests


GITHUB_TOKEN = "ghp_e2eSECRETtoken0123456789"


def test_no_secrets_in_the_store_files(
    model_server: FakeModelServer, workspace: Path, env: dict[str, str], state: Path
) -> None:
    env["GITHUB_TOKEN"] = GITHUB_TOKEN
    # The child's env has no secrets; the agent's own process environment does.
    command = f"echo pasted={SECRET}; env; tr '\\0' '\\n' < /proc/$PPID/environ"
    model_server.script(
        tool_call_reply([("bash", {"command": command})]),
        error_reply(401, f"Incorrect API key provided: {SECRET}"),
    )
    result = run(model_server, env, workspace, f"use {SECRET}")
    assert result.returncode == 1
    assert model_server.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"
    output = sent(model_server)[-1]["content"]
    # The sandbox hides the agent's environment, and known secrets are redacted anyway.
    assert "PATH=" in output and GITHUB_TOKEN not in output and SECRET not in output
    shown = lsp(env, workspace, "sessions", "show", session_id(result))
    assert "pasted=[REDACTED]" in shown.stdout and "use [REDACTED]" in shown.stdout
    files = [p for p in state.iterdir() if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data and GITHUB_TOKEN.encode() not in data, path
