"""Asking for permission on the terminal: yes, no or always. EOF or anything else is no."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import TextIO

from lsp_agent.permissions import Decision, PermissionRequest
from lsp_agent.permissions.approval import prompt_text

ANSWERS: dict[str, Decision] = {
    "y": "allow_once",
    "yes": "allow_once",
    "a": "allow_always",
    "always": "allow_always",
}


class TerminalGate:
    def __init__(self, fd: int | None = None, err: TextIO | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.err = err or sys.stderr
        self._buffer = b""
        self._lock = asyncio.Lock()  # concurrent asks would interleave their prompts

    async def ask(self, request: PermissionRequest) -> Decision:
        """The whole command (a very long one as head and tail, with [v]iew for all of it),
        why it is asked, the diff of an edit, and what "always" would allow."""
        args = (request.title, request.command, request.reason, request.asked_parts)
        whole = prompt_text(*args, limit=1 << 30)
        shown = prompt_text(*args)
        always = f"[a]lways ({request.always})" if request.always else "[a]lways"
        view = " / [v]iew all" if shown != whole else ""
        async with self._lock:
            if request.diff is not None:
                self.err.write(request.diff.unified)
                if not request.diff.unified.endswith("\n"):
                    self.err.write("\n")
            self.err.write(f"{shown}\n")
            while True:
                self.err.write(f"Allow? [y]es / [n]o / {always}{view}: ")
                self.err.flush()
                line = await self._read_line()
                if line is None:
                    self.err.write("\n(no answer: denied)\n")
                    return "reject"
                answer = line.strip().lower()
                if view and answer in ("v", "view"):
                    self.err.write(f"{whole}\n")
                    continue
                return ANSWERS.get(answer, "reject")

    async def _read_line(self) -> str | None:
        """One line from stdin without blocking the loop, and cancellable; None on EOF."""
        while b"\n" not in self._buffer:
            chunk = await _read_chunk(self.fd)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace")


async def _read_chunk(fd: int) -> bytes:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()

    def on_readable() -> None:
        if not future.done():
            try:
                future.set_result(os.read(fd, 4096))
            except OSError as e:
                future.set_exception(e)

    try:
        loop.add_reader(fd, on_readable)
    except (PermissionError, OSError, ValueError):
        # Regular files cannot be polled; a daemon thread never blocks interpreter exit.
        def deliver(data: bytes) -> None:
            if not future.done():
                future.set_result(data)

        def read_in_thread() -> None:
            loop.call_soon_threadsafe(deliver, os.read(fd, 4096))

        threading.Thread(target=read_in_thread, daemon=True).start()
        return await future
    try:
        return await future
    finally:
        loop.remove_reader(fd)
