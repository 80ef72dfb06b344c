"""The CLI's side of the local provider: a progress line on stderr while the model loads,
the default when nothing is configured, and the server's stop when the run ends."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from lsp_agent.config import Settings
from lsp_agent.local.defaults import pick_default
from lsp_agent.local.provider import LocalProvider, check_installed
from lsp_agent.store.db import state_dir


class LineProgress:
    """One line on stderr: rewritten in place on a terminal, begin and end lines otherwise."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self._title = ""

    def begin(self, title: str, message: str) -> None:
        self._title = title.lower()
        self.out.write(f"{self._title}: {message}\n")
        self.out.flush()

    def report(self, message: str) -> None:
        if self.tty:
            self.out.write(f"\r\x1b[K{message}")
            self.out.flush()

    def end(self, message: str) -> None:
        prefix = "\r\x1b[K" if self.tty else ""
        self.out.write(f"{prefix}{message}\n")
        self.out.flush()


@asynccontextmanager
async def run_settings(settings: Settings, state: Path | None) -> AsyncIterator[Settings]:
    """The settings a run uses: as given, or pointing at a local llama.cpp server that is
    started here and stopped on the way out. Raises NotConfigured / LocalModelError."""
    settings, notice = await pick_default(settings)
    if notice:
        print(f"lsp-agent: {notice}", file=sys.stderr)
    if settings.model.provider != "local":
        yield settings
        return
    check_installed()
    provider = LocalProvider(state_dir(state) / "logs")
    try:
        model = await provider.model_settings(settings, LineProgress())
        for line in provider.notices:
            print(f"lsp-agent: {line}", file=sys.stderr)
        yield settings.model_copy(update={"model": model})
    finally:
        if provider.server is not None and provider.server.crashed:
            print(f"lsp-agent: {provider.server.crash_report()}", file=sys.stderr)
        await provider.aclose()
