"""A real ACP client (the Python SDK's client side) driving the real `lsp-agent acp`
subprocess. The client records every update and every raw frame; it answers permission
requests as the test scripts, and serves fs/* from an editor's buffers when it offers them."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process, text_block
from acp.client.connection import ClientSideConnection
from acp.connection import StreamEvent
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    InitializeResponse,
    ReadTextFileResponse,
    RequestPermissionResponse,
    WriteTextFileResponse,
)

from tests.fakes.model_server import FakeModelServer

SECRET = "sk-acp-test-key-do-not-log-1234567890"


@dataclass
class RecordingClient:
    """The editor side. `answer` picks the permission option kind to choose (None: the
    user dismissed the dialog)."""

    buffers: dict[str, str] = field(default_factory=dict)  # path -> unsaved editor text
    answer: str | None = "allow_once"
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    frames: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event | None = None  # when set: hold permission answers until set

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append((session_id, update.model_dump(by_alias=True, exclude_none=True)))

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **_: Any
    ) -> RequestPermissionResponse:
        self.permissions.append(
            {
                "toolCall": tool_call.model_dump(by_alias=True, exclude_none=True),
                "options": [o.model_dump(by_alias=True) for o in options],
            }
        )
        self.asked.set()
        if self.release is not None:
            await self.release.wait()
        chosen = next((o for o in options if o.kind == self.answer), None)
        if chosen is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen.option_id)
        )

    async def read_text_file(self, session_id: str, path: str, **_: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        except FileNotFoundError:
            raise RequestError.resource_not_found(path) from None
        return ReadTextFileResponse(content=text)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **_: Any
    ) -> WriteTextFileResponse:
        self.writes.append((path, content))
        self.buffers[path] = content  # the editor keeps it in a buffer, for review
        return WriteTextFileResponse()

    def observe(self, event: StreamEvent) -> None:
        self.frames.append((event.direction.value, event.message))

    def of(self, kind: str, session_id: str | None = None) -> list[dict[str, Any]]:
        return [
            u
            for sid, u in self.updates
            if u.get("sessionUpdate") == kind and (session_id is None or sid == session_id)
        ]

    def text(self, session_id: str, kind: str = "agent_message_chunk") -> str:
        return "".join(u["content"]["text"] for u in self.of(kind, session_id))


def agent_env(state: Path, model: FakeModelServer, *, key: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["LSP_AGENT_STATE_DIR"] = str(state)
    env["OPENAI_BASE_URL"] = model.base_url
    env["OPENAI_MODEL"] = "fake-model"
    if key:
        env["OPENAI_API_KEY"] = SECRET
    return env


@dataclass
class Agent:
    conn: ClientSideConnection
    process: asyncio.subprocess.Process
    client: RecordingClient
    init: InitializeResponse


@asynccontextmanager
async def acp_agent(
    workspace: Path,
    state: Path,
    model: FakeModelServer,
    client: RecordingClient | None = None,
    *,
    fs: bool = False,
    key: bool = True,
    terminal: bool = False,
    meta: dict[str, Any] | None = None,
) -> AsyncIterator[Agent]:
    client = client or RecordingClient()
    command = [sys.executable, "-m", "lsp_agent", "acp"]
    if os.environ.get("ACP_LOG_FILE"):  # to debug a test: the agent's log, at debug level
        command += ["--log-level", "debug", "--log-file", os.environ["ACP_LOG_FILE"]]
    async with spawn_agent_process(
        client,
        *command,
        env=agent_env(state, model, key=key),
        cwd=workspace,
        observers=[client.observe],
        use_unstable_protocol=True,
    ) as (conn, process):
        caps = ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs),
            terminal=terminal,
            field_meta=meta,
        )
        init = await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=caps)
        yield Agent(conn, process, client, init)


def prompt_of(text: str) -> list[Any]:
    return [text_block(text)]
