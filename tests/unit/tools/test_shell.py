"""The bash tool with real subprocesses: streaming, exit codes, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from lsp_agent.agent.events import Event, ToolOutputDelta
from lsp_agent.config import Settings
from lsp_agent.tools import processes
from lsp_agent.tools.base import ToolContext
from lsp_agent.tools.shell import Outcome, bash, describe, exit_status, is_secret
from lsp_agent.workspace import DiskWorkspace
from tests.procs import running, sleep_marker
from tests.unit.tools.helpers import MakeCtx, run

# Leaves a background child (in a session of its own, too) and a foreground one running,
# each with a marker in its command line to find it by.
MARK = sleep_marker()
SPAWN = f"echo started; setsid sleep {MARK} & sleep {MARK} & sleep {MARK}"


def _output(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.stream, e.text) for e in events if isinstance(e, ToolOutputDelta)]


def _assert_group_gone() -> None:
    assert running(MARK) == []  # setsid children included: the sandbox's PID namespace ends
    assert processes.live() == []


async def test_streams_output_and_reports_exit_code(
    ctx: ToolContext, events: list[Event], root: Path
) -> None:
    result = await run(bash, ctx, command="echo out; echo err >&2; pwd; exit 3")
    *lines, status = result.output.split("\n")
    assert status == "Exit code: 3"
    assert sorted(lines) == sorted(["out", "err", str(root)])  # the pipes may interleave
    streamed = _output(events)
    assert ("stderr", "err\n") in streamed
    assert "".join(t for s, t in streamed if s == "stdout") == f"out\n{root}\n"
    assert bash.title(bash.parse('{"command": "ls -la\\nmore"}')) == "Run `ls -la`"


async def test_stdin_is_empty_and_silence_is_reported(ctx: ToolContext) -> None:
    result = await run(bash, ctx, command="cat")  # would hang if stdin were inherited
    assert result.output == "(no output)\nExit code: 0"


async def test_partial_lines_stream_without_newline(ctx: ToolContext, events: list[Event]) -> None:
    await run(bash, ctx, command="printf 'no newline'; printf '\\303'; printf '\\251'")
    assert "".join(t for _, t in _output(events)) == "no newlineé"  # split UTF-8 joined


async def test_timeout_kills_the_whole_group(ctx: ToolContext, events: list[Event]) -> None:
    result = await run(bash, ctx, command=SPAWN, timeout_s=0.5)
    assert result.output.endswith(
        "Timed out after 0.5s; the command and its child processes were killed."
    )
    _assert_group_gone()


async def test_background_jobs_die_with_the_command(ctx: ToolContext, events: list[Event]) -> None:
    result = await run(bash, ctx, command=f"sleep {MARK} & setsid sleep {MARK} &")
    assert result.output.endswith("Exit code: 0")
    _assert_group_gone()


async def test_cancellation_kills_the_group_and_propagates(
    ws: DiskWorkspace, events: list[Event]
) -> None:
    started = asyncio.Event()

    def emit(event: Event) -> None:
        events.append(event)
        started.set()

    ctx = ToolContext(workspace=ws, settings=Settings(), tool_call_id="c", emit=emit)
    task = asyncio.create_task(run(bash, ctx, command=SPAWN))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    _assert_group_gone()


async def test_kill_all_ends_running_commands(ws: DiskWorkspace, events: list[Event]) -> None:
    started = asyncio.Event()

    def emit(event: Event) -> None:
        events.append(event)
        started.set()

    ctx = ToolContext(workspace=ws, settings=Settings(), tool_call_id="c", emit=emit)
    task = asyncio.create_task(run(bash, ctx, command=SPAWN))
    await started.wait()
    await processes.kill_all()
    result = await task
    assert result.output.endswith("Killed by signal SIGTERM.")
    _assert_group_gone()


async def test_secrets_are_removed_from_the_environment(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_API_KEY", "sk-one")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-two")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-three")
    monkeypatch.setenv("DATABASE_URL", "postgres://me:hunter2@db/x")
    monkeypatch.setenv("KEYBOARD_LAYOUT", "dvorak")
    result = await run(bash, ctx, command="env")
    for value in ("sk-one", "ghp-two", "sk-three", "hunter2"):
        assert value not in result.output
    assert f"PATH={os.environ['PATH']}" in result.output
    assert "KEYBOARD_LAYOUT=dvorak" in result.output


async def test_api_key_env_setting_is_removed(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CREDS_X", "a")
    monkeypatch.setenv("MODEL_PASS_WORD", "b")  # not a secret name: removed only by setting
    ctx = make_ctx(model={"apiKeyEnv": "MODEL_PASS_WORD"})
    result = await run(bash, ctx, command='echo "[$MODEL_PASS_WORD][$LLM_CREDS_X]"')
    assert result.output.startswith("[][]")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("MY_API_KEY", True),
        ("GITHUB_TOKEN", True),
        ("githubToken", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("AWS_SESSION_TOKEN", True),
        ("DB_PASSWORD", True),
        ("NPM_AUTH", True),
        ("COOKIE_JAR", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("SLACKTOKEN", True),
        ("PATH", False),
        ("HOME", False),
        ("TERM", False),
        ("PWD", False),
        ("KEYBOARD_LAYOUT", False),
        ("GIT_AUTHOR_NAME", False),
        ("MONKEY", False),
        ("SSH_AUTH_SOCK", False),
        ("DBUS_SESSION_BUS_ADDRESS", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret(name, "value") is secret


async def test_output_cap_keeps_head_and_tail(make_ctx: MakeCtx, events: list[Event]) -> None:
    ctx = make_ctx(shell={"outputLimit": 1000})
    result = await run(bash, ctx, command="seq 1 5000")
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith("4999\n5000\nExit code: 0")
    assert "characters (" in result.output and "lines) cut ..." in result.output
    assert len(result.output) <= 1000 + len("\nExit code: 0")
    streamed = "".join(t for _, t in _output(events))
    assert streamed == "".join(f"{i}\n" for i in range(1, 5001))  # the user sees it all


class _Saving(DiskWorkspace):
    async def before_shell(self) -> str | None:
        return "Saved 2 open files."


async def test_before_shell_note_comes_first(make_ctx: MakeCtx, root: Path) -> None:
    result = await run(bash, make_ctx(_Saving([root])), command="true")
    assert result.output == "Saved 2 open files.\n(no output)\nExit code: 0"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome("hi\n", 0, False), (0, None)),
        (Outcome("", 3, False), (3, None)),
        (Outcome("x", -15, False), (None, "SIGTERM")),
        (Outcome("x", None, True), (None, "SIGKILL")),
        (Outcome("x", None, False), (None, None)),
    ],
)
def test_exit_status_reads_what_describe_wrote(
    outcome: Outcome, status: tuple[int | None, str | None]
) -> None:
    assert exit_status(f"{outcome.output}\n{describe(outcome, 5)}") == status
    assert exit_status("denied by the user") == (None, None)
