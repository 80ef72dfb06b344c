"""One llama.cpp server child process: start it, wait for the model, watch it, stop it.

A child process rather than llama.cpp inside the daemon: llama.cpp writes to the process's
own file descriptors from C, aborts the whole process on some bad inputs and allocations,
and cannot be interrupted while it loads. In a child its output is a log file, a crash costs
only the model (reported with the log's tail, and restarted on the next prompt), a load can
be abandoned by a kill, and the daemon's event loop and memory stay its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lsp_agent.local.templates import TemplateChoice

log = logging.getLogger(__name__)
STOP_GRACE_S = 5.0
TAIL_LINES = 12


class Progress(Protocol):
    """How a front end shows the model's load: a progress line, or `$/progress`."""

    def begin(self, title: str, message: str) -> None: ...
    def report(self, message: str) -> None: ...
    def end(self, message: str) -> None: ...


class LocalModelError(Exception):
    """The local model cannot serve; the message says why and what to do."""


class LocalConfigError(LocalModelError):
    """A setting names no usable model or template: the user must change it."""


@dataclass(frozen=True)
class LaunchSpec:
    model: Path
    size: int
    template: TemplateChoice
    context_size: int
    parallel: int
    threads: int | None
    gpu_layers: int

    def key(self) -> tuple[Any, ...]:
        return (
            str(self.model),
            self.template.source,
            self.context_size,
            self.parallel,
            self.threads,
            self.gpu_layers,
        )

    def config(self) -> dict[str, Any]:
        return {
            "model": str(self.model),
            "template": self.template.source,
            "context_size": self.context_size,
            "parallel": self.parallel,
            "threads": self.threads,
            "gpu_layers": self.gpu_layers,
        }


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64_000))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


class LocalServer:
    def __init__(
        self,
        spec: LaunchSpec,
        log_path: Path,
        on_exit: Callable[[LocalServer], None] | None = None,
    ) -> None:
        self.spec = spec
        self.log_path = log_path
        self.url: str | None = None
        self.load_s: float | None = None
        self.exit_code: int | None = None
        self._on_exit = on_exit
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and not self._stopping

    @property
    def crashed(self) -> bool:
        return self.exit_code is not None and not self._stopping

    def crash_report(self) -> str:
        tail = log_tail(self.log_path)
        return (
            f"the local model server (llama.cpp, pid {self.pid}) exited with code "
            f"{self.exit_code}; the end of its log {self.log_path}:\n{tail}"
        )

    async def start(self, timeout_s: float, progress: Progress | None = None) -> str:
        """Start the child and wait until the model is loaded; the server's URL."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "LLAMA_LOG_COLORS": "off"}
        with self.log_path.open("wb") as log_file:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "lsp_agent.local.child",
                json.dumps(self.spec.config()),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log_file,
                env=env,
                start_new_session=True,  # a terminal's Ctrl-C is ours to handle, not llama.cpp's
            )
        log.info("local model server pid %s, log %s", self._proc.pid, self.log_path)
        try:
            ready = await self._wait_ready(timeout_s, progress)
        except BaseException:
            await self.stop(keep_log=True)
            raise
        self.url = str(ready["url"]).rstrip("/")
        self.load_s = float(ready.get("load_s") or 0.0)
        self._watch = asyncio.ensure_future(self._watch_exit())
        return self.url

    async def _wait_ready(self, timeout_s: float, progress: Progress | None) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        started = time.monotonic()
        line_task = asyncio.ensure_future(self._proc.stdout.readline())
        name = self.spec.model.name
        try:
            while True:
                done, _ = await asyncio.wait({line_task}, timeout=1.0)
                elapsed = time.monotonic() - started
                if not done:
                    if elapsed > timeout_s:
                        raise LocalModelError(
                            f"the local model {name} did not load within {timeout_s:.0f} s "
                            f"(local.loadTimeoutS); its log: {self.log_path}"
                        )
                    if progress:
                        progress.report(f"loading {name}… {elapsed:.0f} s")
                    continue
                raw = line_task.result()
                if not raw:  # the child exited before it was ready
                    code = await self._proc.wait()
                    self.exit_code = code
                    raise LocalModelError(self._failure(f"exited with code {code}"))
                event = _event(raw)
                if event.get("event") == "ready":
                    return event
                if event.get("event") == "error":
                    await self._proc.wait()
                    self.exit_code = self._proc.returncode
                    raise LocalModelError(self._failure(str(event.get("message"))))
                line_task = asyncio.ensure_future(self._proc.stdout.readline())
        finally:
            line_task.cancel()

    def _failure(self, what: str) -> str:
        tail = log_tail(self.log_path)
        hint = ""
        if "xllamacpp is not installed" in what:
            hint = "; install it with pip install 'lsp-agent[local]'"
        return (
            f"llama.cpp could not load {self.spec.model} ({what}){hint}. "
            f"The end of its log {self.log_path}:\n{tail}"
        )

    async def _watch_exit(self) -> None:
        assert self._proc is not None
        code = await self._proc.wait()
        if self._stopping:
            return
        self.exit_code = code
        log.error("%s", self.crash_report())
        if self._on_exit is not None:
            self._on_exit(self)

    async def stop(self, *, keep_log: bool = False) -> None:
        """Close the child's stdin (it exits), then SIGTERM, then SIGKILL, each after a grace."""
        proc = self._proc
        if proc is None:
            return
        self._stopping = True
        if proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(sig)
                try:
                    await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
                    break
                except TimeoutError:
                    continue
        if self._watch is not None:
            self._watch.cancel()
        if not keep_log and self.exit_code is None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def kill_now(self) -> None:
        """For atexit and a second Ctrl-C: no awaiting."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()


def _event(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
