"""A pytest-lsp client driving the real `lsp-agent serve` subprocess, playing the editor:
it keeps open documents, applies (or refuses) workspace edits, answers permission,
diagnostics and save requests, and records every update."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from lsp_agent.server.server import plain_converter
from lsp_agent.server.uris import path_to_uri
from tests.fakes.model_server import FakeModelServer

Answer = str | None  # an optionId, "cancelled", or None (answer with an error)


@dataclass
class Doc:
    text: str
    version: int


@dataclass
class Editor:
    """What the fake editor holds and how it will answer the server."""

    docs: dict[str, Doc] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    permission_answers: list[Answer] = field(default_factory=list)
    permission_requests: list[dict[str, Any]] = field(default_factory=list)
    message_requests: list[Any] = field(default_factory=list)
    message_answers: list[str | None] = field(default_factory=list)
    refuse_edits: int = 0  # how many applyEdit requests to answer applied: false
    applied_edits: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    saved: list[list[str]] = field(default_factory=list)
    waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(default_factory=list)

    def changed(self) -> None:
        for predicate, future in self.waiters:
            if not future.done() and predicate():
                future.set_result(None)

    async def until(self, predicate: Callable[[], bool], wait_s: float = 30) -> None:
        """Wait until the predicate holds (checked whenever the server sends something)."""
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        async with asyncio.timeout(wait_s):  # liveness guard, not a timing assertion
            await future

    def of(self, session_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            u["update"]
            for u in self.updates
            if u["sessionId"] == session_id
            and (kind is None or u["update"]["sessionUpdate"] == kind)
        ]

    def text_of(self, session_id: str) -> str:
        return "".join(u["content"]["text"] for u in self.of(session_id, "agent_message_chunk"))


def capabilities(flavour: str, agent: dict[str, bool] | None) -> t.ClientCapabilities:
    caps = client_capabilities(flavour)
    if agent is not None:
        caps.experimental = {"lspAgent": agent}
    return caps


ALL_AGENT_CAPS = {"requestPermission": True, "getDiagnostics": True, "saveDocuments": True}


@dataclass
class AgentClient:
    client: LanguageClient
    editor: Editor
    root: Path
    server: FakeModelServer

    async def request(self, method: str, params: Any) -> Any:
        return await self.client.protocol.send_request_async(method, params)

    async def new_session(self) -> str:
        result = await self.request("agent/session/new", {})
        session_id: str = result["sessionId"]
        return session_id

    async def prompt(self, session_id: str, text: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "agent/session/prompt", {"sessionId": session_id, "prompt": text, **extra}
        )
        return result

    def open(self, name: str, text: str | None = None) -> str:
        path = self.root / name
        if text is None:
            text = path.read_text()
        uri = path_to_uri(path)
        self.editor.docs[uri] = Doc(text, 1)
        self.client.text_document_did_open(
            t.DidOpenTextDocumentParams(
                text_document=t.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        return uri

    def type_text(self, uri: str, text: str) -> None:
        """The user edits the buffer (unsaved)."""
        doc = self.editor.docs[uri]
        doc.text, doc.version = text, doc.version + 1
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


def apply_text_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply LSP edits (ASCII test content: utf-16 columns are characters)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(pos: dict[str, int]) -> int:
        if pos["line"] >= len(lines):
            return len(text)
        return offsets[pos["line"]] + pos["character"]

    for edit in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


def make_client(editor: Editor) -> LanguageClient:
    client = LanguageClient(converter_factory=plain_converter)
    register_lsp_features(client)

    @client.feature("agent/session/update")
    def on_update(ls: LanguageClient, params: dict[str, Any]) -> None:
        editor.updates.append(params)
        editor.changed()

    @client.feature("agent/session/request_permission")
    async def on_permission(ls: LanguageClient, params: dict[str, Any]) -> dict[str, Any]:
        editor.permission_requests.append(params)
        editor.changed()
        answer = editor.permission_answers.pop(0) if editor.permission_answers else "never"
        if answer == "never":  # the user never answers (until the request is cancelled)
            await asyncio.Event().wait()
        if answer is None:
            raise RuntimeError("the editor failed to ask")
        if answer == "cancelled":
            return {"outcome": {"outcome": "cancelled"}}
        return {"outcome": {"outcome": "selected", "optionId": answer}}

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_message_request(ls: LanguageClient, params: Any) -> Any:
        editor.message_requests.append(params)
        editor.changed()
        answer = editor.message_answers.pop(0) if editor.message_answers else None
        return None if answer is None else t.MessageActionItem(title=answer)

    @client.feature(t.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(ls: LanguageClient, params: t.ApplyWorkspaceEditParams) -> Any:
        raw = ls.protocol._converter.unstructure(params)
        editor.applied_edits.append(raw)
        editor.changed()
        if editor.refuse_edits:
            editor.refuse_edits -= 1
            return t.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
        for change in raw["edit"].get("documentChanges", []):
            uri, version = change["textDocument"]["uri"], change["textDocument"]["version"]
            doc = editor.docs.get(uri)
            if doc is None or doc.version != version:
                return t.ApplyWorkspaceEditResult(applied=False, failure_reason="stale version")
            doc.text = apply_text_edits(doc.text, change["edits"])
            doc.version += 1
            ls.text_document_did_change(
                t.DidChangeTextDocumentParams(
                    text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                    content_changes=[t.TextDocumentContentChangeWholeDocument(text=doc.text)],
                )
            )
        return t.ApplyWorkspaceEditResult(applied=True)

    @client.feature("agent/getDiagnostics")
    def on_diagnostics(ls: LanguageClient, params: dict[str, Any]) -> dict[str, Any]:
        uris = params.get("uris") or list(editor.diagnostics)
        return {"items": [{"uri": u, "diagnostics": editor.diagnostics.get(u, [])} for u in uris]}

    @client.feature("agent/saveDocuments")
    def on_save(ls: LanguageClient, params: dict[str, Any]) -> dict[str, Any]:
        editor.saved.append(params["uris"])
        for uri in params["uris"]:
            doc = editor.docs.get(uri)
            if doc is not None:
                Path(uri.removeprefix("file://")).write_text(doc.text)
        return {"saved": params["uris"]}

    return client


def server_env(root: Path, state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["LSP_AGENT_STATE_DIR"] = str(state)
    return env


async def start(
    root: Path,
    state: Path,
    server: FakeModelServer,
    *,
    flavour: str = "visual-studio-code",
    agent_caps: dict[str, bool] | None = ALL_AGENT_CAPS,
    settings: dict[str, Any] | None = None,
) -> AgentClient:
    editor = Editor()
    client = make_client(editor)
    await client.start_io(
        sys.executable, "-m", "lsp_agent", "serve", "--stdio", env=server_env(root, state)
    )
    options = {
        "model": {"baseUrl": server.base_url, "name": "fake-model", "contextWindow": 32000},
        "permissions": {"mode": "ask"},
        **(settings or {}),
    }
    await client.initialize_session(
        t.InitializeParams(
            capabilities=capabilities(flavour, agent_caps),
            root_uri=path_to_uri(root),
            workspace_folders=[t.WorkspaceFolder(uri=path_to_uri(root), name="ws")],
            initialization_options={"lspAgent": options},
        )
    )
    return AgentClient(client, editor, root, server)


async def stop(agent: AgentClient) -> None:
    try:
        await asyncio.wait_for(agent.client.shutdown_session(), 20)
    finally:
        await agent.client.stop()
