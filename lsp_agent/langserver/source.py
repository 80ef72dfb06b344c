"""Where the language-server tools get their answers: a "language source".

Two kinds exist. The daemon's own servers (`manager.LangServers`, each a `client.Server`
speaking pygls) for the CLI, the ACP endpoint and plugin-less editors; and the editor,
which answers `agent/languageFeature` from all of its language servers (supplied by the
LSP front end, `lsp_agent/server/language.py`). The tools (`tools.py`, `features.py`)
only see these two protocols, and requests and results are lsprotocol objects either way.
Nothing here imports pygls.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # lsprotocol costs ~0.2 s to import: only once a server starts
    from lsprotocol import types as t


class LanguageSource(Protocol):
    """One server the tools can ask (a daemon-started language server, or the editor)."""

    @property
    def name(self) -> str: ...

    def has(self, capability: str) -> bool:
        """Whether it offers a ServerCapabilities field, e.g. "rename_provider"."""
        ...

    def sync(self, path: Path, text: str, language: str) -> bool:
        """Make it see this text of the file; True if anything changed since it last did."""
        ...

    async def request(self, method: str, params: Any, limit_s: float = 30.0) -> Any:
        """An LSP request with lsprotocol params; its lsprotocol result."""
        ...

    def published(self, path: Path) -> int:
        """A counter of diagnostics received for the file (`diagnostics`' `since`)."""
        ...

    async def diagnostics(self, path: Path, since: int | None, cap: float) -> list[t.Diagnostic]:
        """The file's diagnostics; with `since`, fresh ones after a change (at most `cap` s)."""
        ...

    def take_edits(self) -> list[t.WorkspaceEdit]:
        """The workspace edits it asked to apply (workspace/applyEdit from a command)."""
        ...


class LanguageSources(Protocol):
    """A session's language sources, as the tools and `with_langservers` use them."""

    noted: bool  # "none available" was said
    lsp: Any  # the tools' shared state (tools.Lsp), made on first use
    actions: dict[str, tuple[Any, Any, Path]]  # code_actions' ids -> (source, action, path)

    @property
    def available(self) -> bool: ...

    def has_sources(self) -> bool:
        """Whether offering the tools is worth their tokens in this workspace."""
        ...

    def why_none(self) -> str: ...

    def new_failures(self) -> list[str]: ...

    def take_restarts(self) -> list[str]:
        """Servers started again after they died, since the last call (each said once)."""
        ...

    async def for_path(self, path: Path, capability: str | None = None) -> Sequence[LanguageSource]:
        """The sources for this file (started now if needed)."""
        ...

    async def any_running(self, capability: str) -> Sequence[LanguageSource]:
        """Sources that answer workspace-wide requests (workspace/symbol)."""
        ...

    async def known_diagnostics(self) -> dict[str, list[t.Diagnostic]]:
        """uri -> diagnostics, for every file the sources know problems of."""
        ...

    async def close(self) -> None: ...
