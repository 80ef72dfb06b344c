"""One language server the daemon started: pygls's LanguageClient over the server's stdio.

Documents are synced from what the agent reads and writes (full-text didOpen/didChange),
diagnostics are pulled where the server supports it, else taken from publishDiagnostics.
A server that died is started again on its next use (see `LangServers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.protocol import LanguageServerProtocol

from lsp_agent.langserver.languages import ServerDied
from lsp_agent.tools.shell import child_env

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.15  # publishDiagnostics often come in bursts: take the last of one


class _Protocol(LanguageServerProtocol):
    def get_result_type(self, method: str) -> Any:  # type: ignore[override]
        # initialize's result is read by hand (`_capabilities`): lsprotocol cannot structure
        # some servers' (ruff's notebookDocumentSync selector), and one bad field must not
        # lose the server
        return None if method == t.INITIALIZE else super().get_result_type(method)


class Server:
    def __init__(self, name: str, command: Sequence[str], root: Path, filetypes: list[str]):
        self.name = name
        self.command = list(command)
        self.root = root
        self.filetypes = filetypes
        self.client: LanguageClient | None = None
        self.caps: t.ServerCapabilities | None = None
        self.starts = 0  # how many times it was started (a restart after a crash counts)
        self._docs: dict[str, tuple[int, str]] = {}  # uri -> (version, text) last sent
        self._diags: dict[str, list[t.Diagnostic]] = {}
        self._published: dict[str, int] = {}  # uri -> publishDiagnostics seen
        self._bump = asyncio.Event()  # set (and replaced) on every publishDiagnostics
        self._edits: list[t.WorkspaceEdit] = []  # workspace/applyEdit from a command
        self._stderr: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()  # the server has analysed a document (see `ready`)
        self._ready_cap = 60.0

    @property
    def alive(self) -> bool:
        c = self.client
        return c is not None and c._server is not None and c._server.returncode is None

    @property
    def pid(self) -> int | None:
        c = self.client
        return c._server.pid if c is not None and c._server is not None else None

    async def start(self, limit_s: float) -> None:
        await self.stop()
        self._docs.clear()
        self._diags.clear()
        self._ready = asyncio.Event()
        self._ready_cap = limit_s
        client = LanguageClient("lsp-agent", "0.1", protocol_cls=_Protocol)
        # pygls marks the handler function itself: plain functions, not bound methods
        client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda p: self._on_publish(p))
        client.feature(t.WORKSPACE_APPLY_EDIT)(lambda p: self._on_apply_edit(p))
        client.feature(t.WORKSPACE_CONFIGURATION)(lambda p: [None for _ in p.items])
        client.feature(t.WINDOW_WORK_DONE_PROGRESS_CREATE)(lambda _p: None)
        client.feature(t.CLIENT_REGISTER_CAPABILITY)(lambda _p: None)
        # the user's environment without what looks like a secret (the model's API key)
        env = child_env(os.environ)
        await client.start_io(self.command[0], *self.command[1:], cwd=str(self.root), env=env)
        self.client = client
        proc = client._server
        if proc is not None and proc.stderr is not None:  # drained, or a chatty server blocks
            self._stderr = asyncio.create_task(_drain(proc.stderr))
        self.starts += 1
        uri = self.root.as_uri()
        params = t.InitializeParams(
            process_id=None,
            root_uri=uri,
            workspace_folders=[t.WorkspaceFolder(uri=uri, name=self.root.name)],
            capabilities=_CLIENT_CAPS,
        )
        result = await asyncio.wait_for(client.initialize_async(params), limit_s)
        self.caps = _capabilities(client, result)
        client.initialized(t.InitializedParams())

    def _on_publish(self, params: t.PublishDiagnosticsParams) -> None:
        self._diags[params.uri] = list(params.diagnostics)
        self._published[params.uri] = self._published.get(params.uri, 0) + 1
        self._ready.set()
        bump, self._bump = self._bump, asyncio.Event()
        bump.set()

    def _on_apply_edit(self, params: t.ApplyWorkspaceEditParams) -> Any:
        self._edits.append(params.edit)
        return t.ApplyWorkspaceEditResult(applied=True)

    def take_edits(self) -> list[t.WorkspaceEdit]:
        edits, self._edits = self._edits, []
        return edits

    def sync(self, path: Path, text: str, language: str) -> bool:
        """Send the document's text if the server has not seen it; True if anything was sent."""
        assert self.client is not None
        uri = path.as_uri()
        seen = self._docs.get(uri)
        if seen is not None and seen[1] == text:
            return False
        if seen is None:
            item = t.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
            self.client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=item))
            self._docs[uri] = (1, text)
        else:
            version = seen[0] + 1
            doc = t.VersionedTextDocumentIdentifier(uri=uri, version=version)
            change = t.TextDocumentContentChangeWholeDocument(text=text)
            self.client.text_document_did_change(
                t.DidChangeTextDocumentParams(text_document=doc, content_changes=[change])
            )
            self._docs[uri] = (version, text)
        return True

    def has(self, capability: str) -> bool:
        return self.caps is not None and bool(getattr(self.caps, capability, None))

    async def ready(self) -> None:
        """Wait, once per start, until the server has published diagnostics of a document.

        A server answers what comes before it has loaded its workspace from what it knows
        then: basedpyright answers a rename that comes before its workspace folder is set
        up in its default workspace, in one file only. LSP has no "ready" message; the first
        diagnostics of an open document come after that set-up. Servers that are pulled
        (or were sent no document) are not waited for; the wait is capped by the start
        time-out.
        """
        if self._ready.is_set() or not self._docs or self.has("diagnostic_provider"):
            return
        proc = self.client._server if self.client is not None else None
        waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._ready.wait())}
        if proc is not None:  # a server that dies meanwhile is not waited for
            waits.add(asyncio.ensure_future(proc.wait()))
        _done, pending = await asyncio.wait(
            waits, timeout=self._ready_cap, return_when=asyncio.FIRST_COMPLETED
        )
        for p in pending:
            p.cancel()
        self._ready.set()

    async def request(self, method: str, params: Any, limit_s: float = 30.0) -> Any:
        if method != t.TEXT_DOCUMENT_DIAGNOSTIC:
            await self.ready()
        client = self.client
        if client is None or not self.alive:  # checked with no await before the send
            raise ServerDied(self._why_dead())
        try:
            return await asyncio.wait_for(
                client.protocol.send_request_async(method, params), limit_s
            )
        except (RuntimeError, ConnectionError, TimeoutError) as e:
            # pygls fails the pending requests of a server whose process exited
            proc = client._server
            if proc is not None and proc.returncode is None and isinstance(e, ConnectionError):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 2)
            if not self.alive:
                raise ServerDied(self._why_dead()) from e
            raise

    def _why_dead(self) -> str:
        proc = self.client._server if self.client is not None else None
        code = f" (exit code {proc.returncode})" if proc is not None else ""
        return f"language server '{self.name}' stopped{code}"

    @property
    def exit_code(self) -> int | None:
        c = self.client
        return c._server.returncode if c is not None and c._server is not None else None

    def published(self, path: Path) -> int:
        return self._published.get(path.as_uri(), 0)

    async def diagnostics(self, path: Path, since: int | None, cap: float) -> list[t.Diagnostic]:
        """The file's diagnostics: pulled, or the publish after `since` (None: what is known).

        Waits at most `cap` seconds; on time-out the last known ones are returned.
        """
        uri = path.as_uri()
        if self.has("diagnostic_provider"):
            params = t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri=uri))
            with contextlib.suppress(Exception):
                report = await self.request(t.TEXT_DOCUMENT_DIAGNOSTIC, params, limit_s=cap)
                items = getattr(report, "items", None)
                if items is not None:
                    return list(items)
        if since is not None:
            await self._wait_publish(uri, since, cap)
        return list(self._diags.get(uri, []))

    async def _wait_publish(self, uri: str, since: int, cap: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cap

        async def wait_for(count: int, until: float) -> bool:
            while self._published.get(uri, 0) <= count and loop.time() < until:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._bump.wait(), until - loop.time())
            return self._published.get(uri, 0) > count

        if not await wait_for(since, deadline):
            return
        while await wait_for(self._published[uri], min(deadline, loop.time() + DEBOUNCE_S)):
            pass  # another publish within the debounce window: take that one instead

    async def stop(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        if client._server is not None and client._server.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_async(None), 3)
                client.exit(None)
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await asyncio.wait_for(client._server.wait(), 3)
            if client._server.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    client._server.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 3)  # type: ignore[no-untyped-call]
        if self._stderr is not None:
            self._stderr.cancel()


def _capabilities(client: LanguageClient, result: Any) -> t.ServerCapabilities:
    plain = _plain(result)
    raw = dict(plain.get("capabilities") or {}) if isinstance(plain, dict) else {}
    raw.pop("notebookDocumentSync", None)  # notebooks are not used
    converter = client.protocol._converter
    try:
        return converter.structure(raw, t.ServerCapabilities)
    except Exception:  # keep what can be read: the providers the tools ask about
        keep = {k: v for k, v in raw.items() if k.endswith("Provider") and v is not None}
        return converter.structure(
            {k: bool(v) if isinstance(v, dict | list) else v for k, v in keep.items()},
            t.ServerCapabilities,
        )


def _plain(value: Any) -> Any:
    """pygls's untyped `Object` (a namedtuple) -> plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


_CLIENT_CAPS = t.ClientCapabilities(
    workspace=t.WorkspaceClientCapabilities(
        apply_edit=True,
        workspace_edit=t.WorkspaceEditClientCapabilities(document_changes=True),
        configuration=True,
        workspace_folders=True,
    ),
    text_document=t.TextDocumentClientCapabilities(
        synchronization=t.TextDocumentSyncClientCapabilities(did_save=False),
        publish_diagnostics=t.PublishDiagnosticsClientCapabilities(version_support=True),
        diagnostic=t.DiagnosticClientCapabilities(),
        definition=t.DefinitionClientCapabilities(link_support=False),
        hover=t.HoverClientCapabilities(content_format=[t.MarkupKind.PlainText]),
        document_symbol=t.DocumentSymbolClientCapabilities(
            hierarchical_document_symbol_support=True
        ),
        rename=t.RenameClientCapabilities(prepare_support=False),
        code_action=t.CodeActionClientCapabilities(
            code_action_literal_support=t.ClientCodeActionLiteralOptions(
                code_action_kind=t.ClientCodeActionKindOptions(
                    value_set=[k.value for k in t.CodeActionKind]
                )
            ),
            resolve_support=t.ClientCodeActionResolveOptions(properties=["edit"]),
        ),
    ),
)
