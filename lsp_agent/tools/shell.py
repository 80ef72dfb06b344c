"""The bash tool: one command in its own process group, streamed, capped, always cleaned up."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from lsp_agent import sandbox
from lsp_agent.sandbox import Launch, SandboxPolicy
from lsp_agent.tools import processes
from lsp_agent.tools.base import ToolContext, ToolResult, tool
from lsp_agent.tools.text import HeadTail

STREAM_LIMIT = 1_000_000  # characters streamed live per command; the result is capped apart
_REAP_WAIT_S = 5.0
_PIPE_WAIT_S = 1.0

# Name segments that mark a secret (MY_API_KEY, githubToken, DB_PASSWORD, AWS_SESSION_TOKEN).
_SECRET_WORDS = frozenset(
    {
        *("KEY", "KEYS", "APIKEY", "TOKEN", "TOKENS", "SECRET", "SECRETS", "DSN", "PAT"),
        *("PASSWORD", "PASSWORDS", "PASSWD", "PASS", "PASSPHRASE"),
        *("CREDENTIAL", "CREDENTIALS", "CREDS", "AUTH", "COOKIE", "COOKIES"),
        *("SESSION", "SESSIONS"),
    }
)
_SECRET_SUFFIXES = ("APIKEY", "ACCESSKEY", "SECRETKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD")
# Matching names whose values are not secrets and which tools need.
_NOT_SECRET = frozenset(
    {
        *("SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "SESSION_MANAGER", "DESKTOP_SESSION"),
        *("XDG_SESSION_ID", "XDG_SESSION_TYPE", "XDG_SESSION_CLASS", "XDG_SESSION_DESKTOP"),
    }
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")  # snake, kebab and camelCase
_URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@")


def is_secret(name: str, value: str = "") -> bool:
    """Does this environment variable look like a credential?"""
    if name.upper() in _NOT_SECRET:
        return False
    words = {w.upper() for w in _WORDS.findall(name)}
    if words & _SECRET_WORDS or any(w.endswith(_SECRET_SUFFIXES) for w in words):
        return True
    return _URL_WITH_PASSWORD.match(value) is not None  # DATABASE_URL=postgres://u:pw@h


def child_env(environ: Mapping[str, str], also_remove: str | None = None) -> dict[str, str]:
    """The parent's environment without anything that looks like a secret."""
    return {k: v for k, v in environ.items() if k != also_remove and not is_secret(k, v)}


@dataclass(frozen=True)
class Outcome:
    output: str  # stdout and stderr interleaved as they arrived, capped
    returncode: int | None
    timed_out: bool


class _Pipes(asyncio.SubprocessProtocol):
    """Passes decoded output on as it arrives; futures for exit and for the pipes closing."""

    def __init__(self, sink: Callable[[str, str], None]) -> None:
        loop = asyncio.get_running_loop()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._sink = sink
        self._open = {1, 2}
        self._decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in (1, 2)}

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if text := self._decoders[fd].decode(data):
            self._sink(text, "stdout" if fd == 1 else "stderr")

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in self._open and (text := self._decoders[fd].decode(b"", final=True)):
            self._sink(text, "stdout" if fd == 1 else "stderr")
        self._open.discard(fd)
        if not self._open and not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


async def run_command(
    launch: Launch,
    *,
    cwd: Path,
    timeout_s: float,
    limit: int,
    on_output: Callable[[str, str], None],
    stdin: bytes | None = None,
) -> Outcome:
    """Run a launch (`bash -c` in its sandbox); on exit, timeout or cancellation its process
    group is killed, and with it the sandbox. `stdin` is written to it, else /dev/null."""
    kept = HeadTail(limit)
    streamed = 0

    def sink(text: str, stream: str) -> None:
        nonlocal streamed
        kept.add(text)
        if streamed < STREAM_LIMIT:
            on_output(text[: STREAM_LIMIT - streamed], stream)
            streamed += len(text)
            if streamed >= STREAM_LIMIT:
                on_output("\n[... live output stopped here; the command goes on ...]\n", stream)

    loop = asyncio.get_running_loop()
    try:
        transport, pipes = await loop.subprocess_exec(
            lambda: _Pipes(sink),
            *launch.argv,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=launch.env,
            start_new_session=True,  # its own process group, which we can kill as a whole
            preexec_fn=launch.preexec,
            pass_fds=launch.pass_fds,
        )
    except BaseException:
        launch.cleanup()
        raise
    pgid = transport.get_pid()
    processes.register(pgid)
    if stdin is not None:
        writer = transport.get_pipe_transport(0)
        assert isinstance(writer, asyncio.WriteTransport)
        writer.write(stdin)  # buffered by the loop: a reader that never reads cannot block us
        writer.write_eof()
    watchdog: asyncio.subprocess.Process | None = None
    timed_out = False
    try:
        if not launch.dies_with_parent:
            watchdog = await _watchdog(pgid)
        async with asyncio.timeout(timeout_s):
            await asyncio.shield(pipes.exited)
    except TimeoutError:
        timed_out = True
    finally:
        # Shielded: a second cancellation must not leave the group running.
        cleanup = asyncio.ensure_future(_finish(transport, pipes, pgid, watchdog, launch))
        processes.keep_until_done(cleanup)
        await asyncio.shield(cleanup)
    return Outcome(kept.text(), transport.get_returncode(), timed_out)


async def _watchdog(pgid: int) -> asyncio.subprocess.Process | None:
    """A tiny process that kills the group if this one dies without cleaning up (kill -9):
    it waits on a pipe only we hold open, so EOF means we are gone."""
    try:
        return await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            'read _; kill -KILL -"$1" 2>/dev/null',
            "lsp-agent-watchdog",
            str(pgid),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return None


async def _finish(
    transport: asyncio.SubprocessTransport,
    pipes: _Pipes,
    pgid: int,
    watchdog: asyncio.subprocess.Process | None,
    launch: Launch,
) -> None:
    try:
        # Background jobs die with the command; a timed-out command dies here too.
        await processes.kill_group(pgid)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_REAP_WAIT_S):
                await asyncio.shield(pipes.exited)
        # Every writer is dead, so EOF is near unless something escaped the group (setsid).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_PIPE_WAIT_S):
                await asyncio.shield(pipes.closed)
    finally:
        transport.close()
        processes.unregister(pgid)
        launch.cleanup()
        if watchdog is not None:  # we cleaned up ourselves: stand it down without a kill
            with contextlib.suppress(ProcessLookupError):
                watchdog.kill()
            await watchdog.wait()


def describe(outcome: Outcome, timeout_s: float) -> str:
    if outcome.timed_out:
        return f"Timed out after {timeout_s:g}s; the command and its child processes were killed."
    code = outcome.returncode
    if code is None:
        return "Exit status unknown."
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"Killed by signal {signal.Signals(-code).name}."
        return f"Killed by signal {-code}."
    return f"Exit code: {code}"


def exit_status(output: str) -> tuple[int | None, str | None]:
    """The exit code and signal name that `describe` wrote as a result's last line
    (None, None when it is not there, e.g. the call was denied)."""
    last = output.rstrip().rpartition("\n")[2]
    if last.startswith("Exit code: "):
        with contextlib.suppress(ValueError):
            return int(last.removeprefix("Exit code: ")), None
    if last.startswith("Killed by signal "):
        return None, last.removeprefix("Killed by signal ").rstrip(".")
    if last.startswith("Timed out after "):
        return None, "SIGKILL"
    return None, None


class BashArgs(BaseModel):
    command: str = Field(
        min_length=1, description="The command line; run by /bin/bash -c in the workspace root."
    )
    timeout_s: float | None = Field(
        None,
        gt=0,
        le=3600,
        description="Seconds before the command is killed; default: the configured timeout.",
    )


def _title(a: BashArgs) -> str:
    line = a.command.strip().splitlines()[0] if a.command.strip() else ""
    return f"Run `{line[:77] + '...' if len(line) > 80 else line}`"


@tool(kind="execute", title=_title)
async def bash(args: BashArgs, ctx: ToolContext) -> ToolResult:
    """Run a shell command with /bin/bash -c in the working directory and return its output.

    Each call starts a fresh shell in the working directory: `cd` and variables do not carry
    over to the next call (chain with && instead).
    stdout and stderr are interleaved; long output keeps its beginning and end. Input is
    /dev/null, so interactive commands fail instead of waiting: pass flags such as
    `--yes` or `--no-pager`. The command is killed at the timeout. Background processes
    (`cmd &`) are killed when the command finishes, so start-and-use patterns (a server
    and a request to it) must run in one command. Environment variables that look like
    secrets are removed. Prefer read_file, grep, glob and edit_file for files.
    """
    note = await ctx.workspace.before_shell()
    timeout_s = args.timeout_s or ctx.settings.shell.timeout_s
    cwd = ctx.workspace.cwd  # the session's working directory; the roots bound the sandbox
    launch, policy = await _sandboxed(args.command, ctx, cwd)
    outcome = await run_command(
        launch,
        cwd=cwd,
        timeout_s=timeout_s,
        limit=ctx.settings.shell.output_limit,
        on_output=ctx.output,
    )
    parts = [note] if note else []
    parts.append(outcome.output.rstrip("\n") or "(no output)")
    parts.append(describe(outcome, timeout_s))
    if "Read-only file system" in outcome.output:
        parts.append(_read_only_note(policy))
    return ToolResult("\n".join(parts))


async def _sandboxed(command: str, ctx: ToolContext, cwd: Path) -> tuple[Launch, SandboxPolicy]:
    """The command inside the sandbox that enforces the session's permission mode."""
    shell = ctx.settings.shell
    perms = ctx.permissions
    state = await sandbox.status_async(shell.sandbox)
    roots = ctx.workspace.roots
    hidden = await perms.hidden_paths(roots) if perms is not None else []
    env = child_env(os.environ, ctx.settings.model.api_key_env)

    def build() -> tuple[Launch, SandboxPolicy]:  # lists directories: off the loop
        policy = sandbox.policy_for(
            perms.mode if perms is not None else "ask",
            roots,
            cwd,
            network=shell.network,
            extra_writable=[Path(os.path.expanduser(p)) for p in shell.writable_paths],
            hidden=hidden,
            user_approved=ctx.user_approved,
            max_processes=shell.max_processes,
            max_file_bytes=shell.max_file_mb * 1024 * 1024,
        )
        return sandbox.launch(state, command, policy, env), policy

    return await asyncio.to_thread(build)


def _read_only_note(policy: SandboxPolicy) -> str:
    if not policy.writes:
        return "(The sandbox is read-only in read-only mode: commands cannot change files.)"
    return (
        "(Protected paths such as .git/config, .git/hooks, pyproject.toml, .lsp-agent.toml, "
        ".vscode/ and .env files are read-only in the sandbox unless the user approves the "
        "command; to change one, use edit_file or write_file, which ask the user.)"
    )
