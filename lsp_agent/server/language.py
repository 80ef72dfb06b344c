"""The editor as the language tools' first source (issue 13, §2.1).

When the client has `capabilities.experimental.lspAgent.languageFeatures`, the tools'
LSP requests (definition, references, hover, symbols, rename, code actions, diagnostics)
go to the editor as `agent/languageFeature { method, params }`, and the editor answers from
all of its language servers, which see the user's unsaved buffers. The answer is read as
that method's LSP result: anything else is a tool error, never a crash. Edits that come
back (rename, code actions) go through the normal edit path: permission, then versioned
`workspace/applyEdit` for open buffers.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import converters
from lsprotocol import types as t

from lsp_agent.server import protocol as p
from lsp_agent.server.server import _describe_structure_error
from lsp_agent.tools.base import ToolError

# (method, LSP params as JSON) -> the editor's answer as JSON; raises if it answered an error
Ask = Callable[[str, dict[str, Any]], Awaitable[Any]]
METHODS = frozenset(typing.get_args(p.LanguageFeatureMethod))
# the ServerCapabilities fields the tools ask about, all answered by the editor
PROVIDERS = frozenset(
    {
        "definition_provider",
        "references_provider",
        "hover_provider",
        "document_symbol_provider",
        "workspace_symbol_provider",
        "rename_provider",
        "code_action_provider",
        "diagnostic_provider",
    }
)
POLL_S = 0.2  # after an edit, how often the editor is asked whether diagnostics moved


class EditorSource:
    """The editor, answering like one language server (a `langserver.LanguageSource`)."""

    name = "editor"

    def __init__(self, ask: Ask) -> None:
        self._ask = ask
        self._converter = converters.get_converter()
        self._texts: dict[str, str] = {}  # uri -> the text the tools last worked with
        self._last: dict[str, list[t.Diagnostic]] = {}  # uri -> diagnostics last answered

    def has(self, capability: str) -> bool:
        return capability in PROVIDERS

    def sync(self, path: Path, text: str, language: str) -> bool:
        """Nothing is sent: the editor has its buffers. True when the text changed since the
        tools last saw it (an edit went through), so fresh diagnostics are waited for."""
        uri = path.as_uri()
        before = self._texts.get(uri)
        self._texts[uri] = text
        return before is not None and before != text

    def published(self, path: Path) -> int:
        return 0

    def take_edits(self) -> list[t.WorkspaceEdit]:
        return []

    async def request(self, method: str, params: Any, limit_s: float = 30.0) -> Any:
        if method not in METHODS:  # e.g. workspace/executeCommand: it would edit unasked
            raise ToolError(
                f"The editor does not run {method} for the agent: only actions that carry "
                "their edit can be applied."
            )
        raw_params = self._converter.unstructure(params)
        try:
            raw = await asyncio.wait_for(self._ask(method, raw_params), limit_s)
        except TimeoutError:
            raise ToolError(f"The editor did not answer {method} within {limit_s:g} s.") from None
        except asyncio.CancelledError:
            raise
        except Exception as e:
            raise ToolError(f"The editor could not answer {method}: {_message(e)}") from None
        return self._structure(method, raw)

    def _structure(self, method: str, raw: Any) -> Any:
        response: Any = t.METHOD_TO_TYPES[method][1]
        try:
            message = {"jsonrpc": "2.0", "id": 0, "result": raw}
            return self._converter.structure(message, response).result
        except Exception as e:
            problem = _describe_structure_error(e)[:300]
            raise ToolError(f"The editor's answer to {method} is unusable: {problem}") from None

    async def diagnostics(self, path: Path, since: int | None, cap: float) -> list[t.Diagnostic]:
        """The file's diagnostics as the editor has them. After an edit (`since` given), the
        editor is asked again until they differ from the previous answer, for at most `cap`
        seconds: its servers re-check the buffer in their own time."""
        uri = path.as_uri()
        before = self._last.get(uri)
        found = await self._pull(uri, cap)
        if since is None or before is None:
            return found
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cap
        while _keys(found) == _keys(before) and loop.time() < deadline:
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - loop.time())))
            found = await self._pull(uri, cap)
        return found

    async def _pull(self, uri: str, cap: float) -> list[t.Diagnostic]:
        params = t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri=uri))
        report = await self.request(t.TEXT_DOCUMENT_DIAGNOSTIC, params, limit_s=max(cap, 5.0))
        found = list(getattr(report, "items", None) or [])
        self._last[uri] = found
        return found

    async def everywhere(self) -> dict[str, list[t.Diagnostic]]:
        params = t.WorkspaceDiagnosticParams(previous_result_ids=[])
        report = await self.request(t.WORKSPACE_DIAGNOSTIC, params)
        out: dict[str, list[t.Diagnostic]] = {}
        for item in getattr(report, "items", None) or []:
            out.setdefault(item.uri, []).extend(getattr(item, "items", None) or [])
        return out


class EditorLanguage:
    """A session's language sources when the editor provides them (`LanguageSources`)."""

    def __init__(self, ask: Ask) -> None:
        self.source = EditorSource(ask)
        self.noted = False
        self.lsp: Any = None
        self.actions: dict[str, tuple[Any, Any, Path]] = {}

    @property
    def available(self) -> bool:
        return True

    def has_sources(self) -> bool:
        return True  # the editor knows which languages it serves

    def why_none(self) -> str:
        return ""

    def new_failures(self) -> list[str]:
        return []

    def take_restarts(self) -> list[str]:
        return []  # the editor keeps its own servers running

    async def for_path(self, path: Path, capability: str | None = None) -> list[EditorSource]:
        return [self.source] if capability is None or self.source.has(capability) else []

    async def any_running(self, capability: str) -> list[EditorSource]:
        return await self.for_path(Path("/"), capability)

    async def known_diagnostics(self) -> dict[str, list[t.Diagnostic]]:
        return await self.source.everywhere()

    async def close(self) -> None:
        return None


def _keys(found: list[t.Diagnostic]) -> list[tuple[Any, ...]]:
    return sorted(
        (d.range.start.line, d.range.start.character, d.severity or 1, d.message) for d in found
    )


def _message(e: BaseException) -> str:
    text = str(getattr(e, "message", None) or e or type(e).__name__)
    return text.split("\n", 1)[0][:300]
