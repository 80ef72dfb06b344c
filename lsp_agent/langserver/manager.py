"""A session's language servers: which exist, started lazily, one per root and language,
kept warm, started again after a crash, shut down with the session.

pygls is imported only when a server starts (client.py): the engine never loads it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsp_agent.config import LangServerSettings, LanguageServer

if TYPE_CHECKING:
    from lsp_agent.langserver.client import Server

log = logging.getLogger(__name__)

_PY_MARKERS = ["pyproject.toml", "setup.py", "setup.cfg", "pyrightconfig.json", ".git"]
BUILT_IN: dict[str, LanguageServer] = {
    "basedpyright": LanguageServer(
        command=["basedpyright-langserver", "--stdio"],
        filetypes=["python"],
        root_markers=_PY_MARKERS,
    ),
    "ruff": LanguageServer(
        command=["ruff", "server"], filetypes=["python"], root_markers=_PY_MARKERS
    ),
    "typescript": LanguageServer(
        command=["typescript-language-server", "--stdio"],
        filetypes=["typescript", "typescriptreact", "javascript", "javascriptreact"],
        root_markers=["tsconfig.json", "jsconfig.json", "package.json", ".git"],
    ),
}


def configured(specs: Mapping[str, LanguageServer]) -> dict[str, LanguageServer]:
    """The built-in servers whose binary is on PATH, then the user's (which win by name)."""
    out = {n: s for n, s in BUILT_IN.items() if shutil.which(s.command[0])}
    out.update(specs)
    return {n: s for n, s in out.items() if s.enabled}


class LangServers:
    def __init__(
        self,
        specs: Mapping[str, LanguageServer],
        settings: LangServerSettings,
        roots: tuple[Path, ...],
    ) -> None:
        self.specs = configured(specs)
        self.settings = settings
        self.roots = roots
        self.servers: dict[tuple[str, Path], Server] = {}
        self.failures: dict[str, str] = {}  # server name -> why it could not start
        self.actions: dict[str, tuple[Server, Any, Path]] = {}  # code_actions' ids for apply
        self._lock = asyncio.Lock()
        self.noted = False  # "none available" is said once
        self.lsp: Any = None  # the tools' shared state (langserver.tools.Lsp), made on first use
        self._reported: set[str] = set()
        self.restarts: list[str] = []  # restarts after a crash, told in the next tool result

    @property
    def available(self) -> bool:
        return bool(self.specs)

    def has_sources(self, most: int = 2000) -> bool:
        """Whether the roots hold a file of a language servers serve (a bounded walk): the
        tools cost tokens on every request, so a workspace without sources is not sent them."""
        import os

        from lsp_agent.langserver.languages import LANGUAGE_IDS

        seen = 0
        for root in self.roots:
            for _top, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d != "node_modules"]
                for f in files:
                    if os.path.splitext(f)[1].lower() in LANGUAGE_IDS:
                        return True
                seen += len(files) + len(dirs)
                if seen > most:
                    return False
        return False

    def why_none(self) -> str:
        wanted = ", ".join(s.command[0] for s in BUILT_IN.values())
        return (
            "no language server is available, so definition/references/rename/diagnostics "
            f"tools are not offered (none of {wanted} is on PATH and `langserver.servers` "
            "configures none)"
        )

    def root_for(self, path: Path, markers: list[str]) -> Path:
        top = next((r for r in self.roots if path.is_relative_to(r)), path.parent)
        for d in [path.parent, *path.parent.parents]:
            if not d.is_relative_to(top):
                break
            if any((d / m).exists() for m in markers):
                return d
        return top

    async def for_path(self, path: Path, capability: str | None = None) -> list[Server]:
        """The running servers for this file's language (started now if needed)."""
        from lsp_agent.langserver.languages import language_of

        language = language_of(path)
        if language is None:
            return []
        out = []
        for name, spec in self.specs.items():
            if language not in spec.filetypes or name in self.failures:
                continue
            server = await self._ensure(name, spec, self.root_for(path, spec.root_markers))
            if server is not None and (capability is None or server.has(capability)):
                out.append(server)
        return out

    async def any_running(self, capability: str) -> list[Server]:
        """Servers that can answer a workspace-wide request, starting the first roots' ones."""
        if not self.servers:
            for root in self.roots:
                for name, spec in self.specs.items():
                    if name not in self.failures:
                        await self._ensure(name, spec, root)
        return [s for s in self.servers.values() if s.alive and s.has(capability)]

    async def _ensure(self, name: str, spec: LanguageServer, root: Path) -> Server | None:
        from lsp_agent.langserver.client import Server

        async with self._lock:
            server = self.servers.get((name, root))
            if server is not None and server.alive:
                return server
            if server is None:
                server = Server(name, spec.command, root, spec.filetypes)
            elif server.starts:
                why = f"exit code {server.exit_code}"
                log.warning(
                    "language server %s (%s) stopped (%s); starting it again", name, root, why
                )
                self.restarts.append(
                    f"language server '{name}' had stopped ({why}) and was started again"
                )
            try:
                await server.start(self.settings.start_timeout_s)
            except (OSError, TimeoutError, Exception) as e:  # a broken server is left out
                self.failures[name] = f"{type(e).__name__}: {e}"
                log.warning("language server %s failed to start: %s", name, e)
                await server.stop()
                self.servers.pop((name, root), None)
                return None
            self.servers[(name, root)] = server
            return server

    def take_restarts(self) -> list[str]:
        out, self.restarts = self.restarts, []
        return out

    def new_failures(self) -> list[str]:
        """Servers that failed to start since the last call: each is reported once."""
        out = [f"language server '{n}' is unavailable ({e})" for n, e in self.failures.items()]
        fresh = [n for n in out if n not in self._reported]
        self._reported.update(fresh)
        return fresh

    async def known_diagnostics(self) -> dict[str, list[Any]]:
        """uri -> the diagnostics last published, over every running server."""
        out: dict[str, list[Any]] = {}
        for server in self.servers.values():
            for uri, items in server._diags.items():
                out.setdefault(uri, []).extend(items)
        return out

    async def close(self) -> None:
        servers = list(self.servers.values())
        self.servers.clear()
        await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
