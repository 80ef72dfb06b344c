"""A pytest-lsp client driving the real `lsp-agent serve` subprocess, playing the editor:
it keeps open documents, applies (or refuses) workspace edits, answers permission,
diagnostics, save and configuration requests from scripted answers, and records
everything the server sends (also as raw JSON, for the checks on what may appear)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from lsp_agent.server.server import plain_converter
from lsp_agent.server.uris import path_to_uri, uri_to_path
from tests.fakes.model_server import FakeModelServer

# How the editor answers a permission request: an optionId, "cancelled", None (answer
# with an error), "never" (wait until the server cancels the request), or a future the
# test resolves later with one of those.
Answer = str | None | asyncio.Future[Any]
SECRET = "sk-lsp-agent-test-0123456789-SECRET"  # the API key the servers get from env
AGENT_PROMPT = "agent/session/prompt"
_ids = itertools.count(1)


@dataclass
class Doc:
    text: str
    version: int


@dataclass
class ToolCallView:
    call: dict[str, Any]
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.call["toolCallId"])

    @property
    def final(self) -> dict[str, Any] | None:
        done = [u for u in self.updates if u.get("status") in ("completed", "failed")]
        return done[-1] if done else None

    @property
    def output(self) -> str:
        """What the model was told (rawOutput of the final update)."""
        return str(self.final["rawOutput"]["output"]) if self.final else ""

    @property
    def streamed(self) -> str:
        return "".join(
            item["content"]["text"]
            for u in self.updates
            if "status" not in u
            for item in u.get("content") or []
            if item["type"] == "content"
        )


@dataclass
class Editor:
    """What the fake editor holds and how it will answer the server."""

    docs: dict[str, Doc] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)  # every message the server sent
    stray: list[bytes] = field(default_factory=list)  # non-JSON-RPC lines on the server's stdout
    permission_answers: list[Answer] = field(default_factory=list)
    permission_requests: list[dict[str, Any]] = field(default_factory=list)
    message_requests: list[dict[str, Any]] = field(default_factory=list)
    message_answers: list[Answer] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # requests the server cancelled
    refuse_edits: int = 0  # how many applyEdit requests to answer applied: false
    edit_answers: list[Any] = field(default_factory=list)  # raw answers to the next edits
    before_edit: list[Callable[[], None]] = field(default_factory=list)  # the user acts first
    applied_edits: list[dict[str, Any]] = field(default_factory=list)
    # agent/review: each answer is a result (sent as is), a callable (params -> result),
    # an Exception (an error answer) or "never"; none left answers with an error
    review_answers: list[Any] = field(default_factory=list)
    review_requests: list[dict[str, Any]] = field(default_factory=list)
    # a plain editor's confirmation of annotated edits: (annotation) -> applied or not
    confirm: Callable[[dict[str, Any]], bool] | None = None
    diagnose: Callable[[str, str], list[dict[str, Any]]] | None = None  # (uri, text) -> diags
    diagnostics_requests: list[dict[str, Any]] = field(default_factory=list)
    # agent/languageFeature: (method, params) -> the LSP result, or an Exception to answer
    # with an error; None answers every request with an error
    language: Callable[[str, dict[str, Any]], Any] | None = None
    language_requests: list[dict[str, Any]] = field(default_factory=list)
    saved: list[list[str]] = field(default_factory=list)
    progress_created: list[Any] = field(default_factory=list)
    progress: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    shown: list[dict[str, Any]] = field(default_factory=list)  # window/showMessage
    logs: list[dict[str, Any]] = field(default_factory=list)  # window/logMessage
    configuration_requests: int = 0
    hold_progress_create: asyncio.Future[None] | None = None  # answer create when it is done
    waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(default_factory=list)

    def reset(self) -> None:
        """Between tests sharing a server: forget the answers, hooks and records (but
        not the open documents, which the server still has, nor the raw messages)."""
        for records in (
            self.updates,
            self.permission_answers,
            self.permission_requests,
            self.message_requests,
            self.message_answers,
            self.cancelled,
            self.before_edit,
            self.edit_answers,
            self.applied_edits,
            self.review_answers,
            self.review_requests,
            self.diagnostics_requests,
            self.language_requests,
            self.saved,
            self.progress_created,
            self.progress,
            self.shown,
            self.logs,
        ):
            records.clear()
        self.refuse_edits = 0
        self.confirm = None
        self.diagnose = None
        self.language = None
        self.hold_progress_create = None

    def changed(self) -> None:
        for predicate, future in self.waiters:
            if not future.done() and predicate():
                future.set_result(None)
        self.waiters = [(p, f) for p, f in self.waiters if not f.done()]

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

    def seqs(self, session_id: str) -> list[int]:
        return [u["seq"] for u in self.updates if u["sessionId"] == session_id]

    def text_of(self, session_id: str) -> str:
        return "".join(u["content"]["text"] for u in self.of(session_id, "agent_message_chunk"))

    def calls(self, session_id: str) -> list[ToolCallView]:
        """The session's tool calls in order, each with its later updates (the fake model
        reuses ids such as `call_0` across turns: an update belongs to the latest call)."""
        calls: list[ToolCallView] = []
        for update in self.of(session_id):
            if update["sessionUpdate"] == "tool_call":
                calls.append(ToolCallView(update))
            elif update["sessionUpdate"] == "tool_call_update":
                mine = [c for c in calls if c.id == update["toolCallId"]]
                if mine:
                    mine[-1].updates.append(update)
        return calls

    def progress_of(self, token: Any) -> list[dict[str, Any]]:
        return [value for tok, value in self.progress if tok == token]

    def text(self, uri: str) -> str:
        doc = self.docs.get(uri)
        return doc.text if doc is not None else uri_to_path(uri).read_text()


def capabilities(flavour: str, agent: dict[str, bool] | None) -> t.ClientCapabilities:
    caps = client_capabilities(flavour)
    if agent is not None:
        caps.experimental = {"lspAgent": agent}
    return caps


ALL_AGENT_CAPS = {"requestPermission": True, "getDiagnostics": True, "saveDocuments": True}
LANGUAGE_AGENT_CAPS = {**ALL_AGENT_CAPS, "languageFeatures": True}


@dataclass
class AgentClient:
    client: LanguageClient
    editor: Editor
    root: Path
    server: FakeModelServer
    flavour: str = "visual-studio-code"
    prefix: str = ""  # a folder of the workspace owned by the current test

    async def request(self, method: str, params: Any, msg_id: str | None = None) -> Any:
        return await self.client.protocol.send_request_async(method, params, msg_id=msg_id)

    async def call(self, method: str, params: Any) -> Any:
        """A request sent and answered as plain JSON, whatever the method: lsprotocol
        neither checks the params nor re-structures the result (it would turn a
        CodeAction carrying a command into a Command)."""
        return await self.send_message({"jsonrpc": "2.0", "method": method, "params": params})

    async def send_message(self, message: dict[str, Any]) -> Any:
        """Send any object as a request (an id is added); the answer's result or error."""
        msg_id = f"raw-{next(_ids)}"
        protocol = self.client.protocol
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        protocol._request_futures[msg_id] = future
        protocol._send_data({**message, "id": msg_id})
        async with asyncio.timeout(30):  # liveness guard: an unanswered request fails
            return await asyncio.wrap_future(future)

    def notify(self, method: str, params: Any) -> None:
        self.client.protocol.notify(method, params)

    async def new_session(self) -> str:
        result = await self.request("agent/session/new", {})
        session_id: str = result["sessionId"]
        return session_id

    async def prompt(self, session_id: str, text: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            AGENT_PROMPT, {"sessionId": session_id, "prompt": text, **extra}
        )
        return result

    def start_prompt(
        self, session_id: str, text: str, **extra: Any
    ) -> tuple[str, asyncio.Task[Any]]:
        """Send a prompt without waiting: (its request id, the task awaiting the result)."""
        msg_id = f"prompt-{next(_ids)}"
        params = {"sessionId": session_id, "prompt": text, **extra}
        task = asyncio.ensure_future(self.request(AGENT_PROMPT, params, msg_id))
        return msg_id, task

    def cancel_request(self, msg_id: str) -> None:
        self.notify(t.CANCEL_REQUEST, t.CancelParams(id=msg_id))

    # --- files of the current test -------------------------------------------------

    def rel(self, name: str) -> str:
        """A workspace-relative path in this test's own folder."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def path(self, name: str) -> Path:
        return self.root / self.rel(name)

    def uri(self, name: str) -> str:
        return path_to_uri(self.path(name))

    def write(self, name: str, text: str) -> str:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return self.rel(name)

    def disk(self, name: str) -> str:
        return self.path(name).read_text()

    def open(self, name: str, text: str | None = None) -> str:
        path = self.path(name)
        if text is None:
            text = path.read_text()
        uri = path_to_uri(path)
        self.editor.docs[uri] = Doc(text, 1)
        self.client.text_document_did_open(
            t.DidOpenTextDocumentParams(
                text_document=t.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        return uri

    def type_text(self, uri: str, text: str) -> None:
        """The user replaces the buffer's text (unsaved)."""
        doc = self.editor.docs[uri]
        doc.text, doc.version = text, doc.version + 1
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        """The user types `text` at a position: an incremental change (unsaved)."""
        doc = self.editor.docs[uri]
        at = {"line": line, "character": character}
        doc.text = apply_text_edits(
            doc.text, [{"range": {"start": at, "end": at}, "newText": text}]
        )
        doc.version += 1
        position = t.Position(line=line, character=character)
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[
                    t.TextDocumentContentChangePartial(
                        range=t.Range(start=position, end=position), text=text
                    )
                ],
            )
        )

    def close(self, uri: str) -> None:
        self.editor.docs.pop(uri, None)
        self.client.text_document_did_close(
            t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=uri))
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


class RecordingProtocol(LanguageClientProtocol):
    """Keeps every message the server sent, as parsed JSON, before lsprotocol sees it."""

    raw: list[dict[str, Any]]

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data:  # (json calls this for nested objects too)
            self.raw.append(data)
        return super().structure_message(data)


HEADER = re.compile(rb"(Content-Length: \d+|Content-Type: [^\r\n]*)?\r\n")


def check_framing(stream: asyncio.StreamReader, stray: list[bytes]) -> None:
    """Record every line of the server's stdout that is not part of JSON-RPC framing
    (pygls's reader would silently skip them; stricter clients break)."""
    readline = stream.readline

    async def checked() -> bytes:
        line = await readline()
        if line and not HEADER.fullmatch(line):
            stray.append(line)
        return line

    stream.readline = checked  # type: ignore[method-assign]


async def _answer(answer: Answer) -> str | None:
    while isinstance(answer, asyncio.Future):
        answer = await answer
    if answer == "never":  # the user never answers (until the request is cancelled)
        await asyncio.Event().wait()
    return answer


# The defaults of pytest-lsp that this editor replaces with recording versions.
_OWN = {
    t.PROGRESS,
    t.WINDOW_WORK_DONE_PROGRESS_CREATE,
    t.WINDOW_SHOW_MESSAGE,
    t.WINDOW_LOG_MESSAGE,
    t.WORKSPACE_CONFIGURATION,
}


def make_client(editor: Editor) -> LanguageClient:
    client = LanguageClient(converter_factory=plain_converter, protocol_cls=RecordingProtocol)
    client.protocol.raw = editor.raw
    register_lsp_features(
        client, {k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k not in _OWN}
    )
    unstructure = client.protocol._converter.unstructure

    @client.feature("agent/session/update")
    def on_update(ls: LanguageClient, params: dict[str, Any]) -> None:
        editor.updates.append(params)
        editor.changed()

    async def held(method: str, answer: Answer) -> str | None:
        try:
            return await _answer(answer)
        except asyncio.CancelledError:
            editor.cancelled.append(method)
            editor.changed()
            raise

    @client.feature("agent/session/request_permission")
    async def on_permission(ls: LanguageClient, params: dict[str, Any]) -> dict[str, Any]:
        editor.permission_requests.append(params)
        editor.changed()
        pending = editor.permission_answers.pop(0) if editor.permission_answers else "never"
        answer = await held("agent/session/request_permission", pending)
        if answer is None:
            raise RuntimeError("the editor failed to ask")
        if answer == "cancelled":
            return {"outcome": {"outcome": "cancelled"}}
        return {"outcome": {"outcome": "selected", "optionId": answer}}

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    async def on_message_request(ls: LanguageClient, params: Any) -> Any:
        editor.message_requests.append(unstructure(params))
        editor.changed()
        pending = editor.message_answers.pop(0) if editor.message_answers else None
        answer = await held(t.WINDOW_SHOW_MESSAGE_REQUEST, pending)
        return None if answer is None else t.MessageActionItem(title=answer)

    @client.feature(t.WORKSPACE_APPLY_EDIT)
    async def on_apply_edit(ls: LanguageClient, params: t.ApplyWorkspaceEditParams) -> Any:
        raw = unstructure(params)
        editor.applied_edits.append(raw)
        if editor.before_edit:
            editor.before_edit.pop(0)()
        editor.changed()
        if editor.edit_answers:
            answer = editor.edit_answers.pop(0)
            if isinstance(answer, asyncio.Future):  # held: "apply" (late) or an answer
                try:
                    answer = await asyncio.shield(answer)
                except asyncio.CancelledError:  # $/cancelRequest: this editor ignores it
                    editor.cancelled.append(t.WORKSPACE_APPLY_EDIT)
                    editor.changed()
                    answer = await asyncio.shield(answer)
            if isinstance(answer, Exception):
                raise answer
            if answer != "apply":
                return answer
        if editor.refuse_edits:
            editor.refuse_edits -= 1
            return t.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
        for change in raw["edit"].get("documentChanges", []):
            uri, version = change["textDocument"]["uri"], change["textDocument"]["version"]
            doc = editor.docs.get(uri)
            if doc is None or doc.version != version:
                return t.ApplyWorkspaceEditResult(applied=False, failure_reason="stale version")
            edits = change["edits"]
            notes = raw["edit"].get("changeAnnotations") or {}
            if editor.confirm is not None:  # the user confirms each annotated edit
                edits = [
                    e
                    for e in edits
                    if "annotationId" not in e or editor.confirm(notes[e["annotationId"]])
                ]
            doc.text = apply_text_edits(doc.text, edits)
            doc.version += 1
            ls.text_document_did_change(
                t.DidChangeTextDocumentParams(
                    text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                    content_changes=[t.TextDocumentContentChangeWholeDocument(text=doc.text)],
                )
            )
        return t.ApplyWorkspaceEditResult(applied=True)

    @client.feature("agent/review")
    async def on_review(ls: LanguageClient, params: dict[str, Any]) -> Any:
        editor.review_requests.append(params)
        editor.changed()
        answer = editor.review_answers.pop(0) if editor.review_answers else None
        if answer is None:
            raise RuntimeError("no review answer scripted")
        if answer == "never":
            await held("agent/review", "never")
        if callable(answer):
            answer = answer(params)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @client.feature("agent/getDiagnostics")
    def on_diagnostics(ls: LanguageClient, params: dict[str, Any]) -> dict[str, Any]:
        editor.diagnostics_requests.append(params)
        uris = params.get("uris") or list(editor.docs)
        items = []
        for uri in uris:
            found = editor.diagnose(uri, editor.text(uri)) if editor.diagnose else []
            items.append({"uri": uri, "diagnostics": found})
        return {"items": items}

    @client.feature("agent/languageFeature")
    def on_language_feature(ls: LanguageClient, params: dict[str, Any]) -> Any:
        editor.language_requests.append(params)
        editor.changed()
        if editor.language is None:
            raise RuntimeError("no language server in this editor")
        answer = editor.language(params["method"], params["params"])
        if isinstance(answer, Exception):
            raise answer
        return answer

    @client.feature("agent/saveDocuments")
    def on_save(ls: LanguageClient, params: dict[str, Any]) -> dict[str, Any]:
        editor.saved.append(params["uris"])
        for uri in params["uris"]:
            doc = editor.docs.get(uri)
            if doc is not None:
                uri_to_path(uri).write_text(doc.text)
        editor.changed()
        return {"saved": params["uris"]}

    @client.feature(t.WINDOW_WORK_DONE_PROGRESS_CREATE)
    async def on_progress_create(
        ls: LanguageClient, params: t.WorkDoneProgressCreateParams
    ) -> None:
        editor.progress_created.append(params.token)
        editor.changed()
        if editor.hold_progress_create is not None:
            await editor.hold_progress_create

    @client.feature(t.PROGRESS)
    def on_progress(ls: LanguageClient, params: t.ProgressParams) -> None:
        editor.progress.append((params.token, unstructure(params.value)))
        editor.changed()

    @client.feature(t.WINDOW_SHOW_MESSAGE)
    def on_show_message(ls: LanguageClient, params: t.ShowMessageParams) -> None:
        editor.shown.append(unstructure(params))
        editor.changed()

    @client.feature(t.WINDOW_LOG_MESSAGE)
    def on_log_message(ls: LanguageClient, params: t.LogMessageParams) -> None:
        editor.logs.append(unstructure(params))
        editor.changed()

    @client.feature(t.WORKSPACE_CONFIGURATION)
    def on_configuration(ls: LanguageClient, params: t.ConfigurationParams) -> list[Any]:
        editor.configuration_requests += 1
        editor.changed()
        return [ls.get_configuration(section=item.section) for item in params.items]

    return client


def server_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["LSP_AGENT_STATE_DIR"] = str(state)
    env["OPENAI_API_KEY"] = SECRET
    return env


def init_options(server: FakeModelServer, settings: dict[str, Any] | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "model": {"baseUrl": server.base_url, "name": "fake-model", "contextWindow": 32000},
        "permissions": {"mode": "ask"},
    }
    for key, value in (settings or {}).items():
        options[key] = {**options.get(key, {}), **value}
    return options


async def start(
    root: Path,
    state: Path,
    server: FakeModelServer,
    *,
    flavour: str = "visual-studio-code",
    agent_caps: dict[str, bool] | None = ALL_AGENT_CAPS,
    settings: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    command: list[str] | None = None,
    initialized: Callable[[AgentClient], Awaitable[None]] | None = None,
) -> AgentClient:
    """Start a server and initialize it as the given editor would."""
    editor = Editor()
    client = make_client(editor)
    if configuration is not None:
        client.set_configuration(configuration, section="lspAgent")
    argv = command or [sys.executable, "-m", "lsp_agent", "serve", "--stdio"]
    await client.start_io(*argv, env=server_env(state))
    assert client._server is not None and client._server.stdout is not None
    check_framing(client._server.stdout, editor.stray)
    agent = AgentClient(client, editor, root, server, flavour)
    await client.initialize_session(
        t.InitializeParams(
            capabilities=capabilities(flavour, agent_caps),
            root_uri=path_to_uri(root),
            workspace_folders=[t.WorkspaceFolder(uri=path_to_uri(root), name="ws")],
            initialization_options={"lspAgent": init_options(server, settings)},
        )
    )
    return agent


async def stop(agent: AgentClient) -> None:
    try:
        await asyncio.wait_for(agent.client.shutdown_session(), 20)
    finally:
        await agent.client.stop()


def leaked(editor: Editor, secret: str = SECRET) -> list[str]:
    """The methods of messages from the server that contain the secret."""
    return [str(m.get("method", m.get("id"))) for m in editor.raw if secret in json.dumps(m)]


def tool_results(server: FakeModelServer) -> list[str]:
    """What the model was told by the tools, as of its latest request."""
    messages = server.chat_requests[-1].body["messages"]
    return [str(m["content"]) for m in messages if m["role"] == "tool"]


def tool_names(server: FakeModelServer, index: int = 0) -> list[str]:
    """The tools offered to the model in one of its requests."""
    return [spec["function"]["name"] for spec in server.chat_requests[index].body["tools"]]


def live_in_group(pgid: int) -> list[int]:
    """Processes of a process group that still run (a zombie has finished: not counted)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            found.append(int(name))
    return found


def process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :].split()[0] in ("Z", "X")


class RawConnection:
    """A bare JSON-RPC connection, for servers the test does not start itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def receive(self) -> dict[str, Any]:
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            if not line:
                raise EOFError("the server closed its stdout")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(await self.reader.readexactly(length))
        self.received.append(message)
        return message

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(30):  # liveness guard
            while not predicate(message := await self.receive()):
                pass
        return message

    async def request(self, method: str, params: Any) -> Any:
        msg_id = f"raw-{next(_ids)}"
        self.send({"id": msg_id, "method": method, "params": params})
        answer = await self.until(lambda m: m.get("id") == msg_id and "method" not in m)
        assert "error" not in answer, answer
        return answer["result"]


async def process_exit(pid: int) -> None:
    """Wait until a process (not necessarily a child) has exited: its pidfd turns readable."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, lambda: gone.done() or gone.set_result(None))
    try:
        async with asyncio.timeout(30):  # liveness guard
            await gone
    finally:
        loop.remove_reader(fd)
        os.close(fd)
