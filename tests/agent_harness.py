"""An in-process agent run wired to the fake model server: real client, tools and disk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsp_agent.agent.context import system_prompt
from lsp_agent.agent.conversation import Conversation
from lsp_agent.agent.events import Event, ListSink, RunFinished
from lsp_agent.agent.loop import run_agent
from lsp_agent.agent.tokens import TokenCounter
from lsp_agent.agent.tool_runner import ToolRunner
from lsp_agent.config import Settings, merge
from lsp_agent.model.client import ModelClient
from lsp_agent.model.wire import Message
from lsp_agent.permissions import Decision, PermissionRequest, Permissions
from lsp_agent.tools import default_tools
from lsp_agent.tools.base import Tool, ToolSet
from lsp_agent.workspace import DiskWorkspace
from tests.fakes.model_server import FakeModelServer


class WatchSink(ListSink):
    """A ListSink a test can await: `await sink.wait_for(lambda e: ...)`."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: list[tuple[Callable[[Event], bool], asyncio.Future[Event]]] = []

    def emit(self, event: Event) -> None:
        super().emit(event)
        for predicate, future in self._waiters:
            if not future.done() and predicate(event):
                future.set_result(event)

    async def wait_for(self, predicate: Callable[[Event], bool], wait_s: float = 20) -> Event:
        for event in self.events:
            if predicate(event):
                return event
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        async with asyncio.timeout(wait_s):  # a liveness guard, not a timing assertion
            return await future


@dataclass
class ScriptedGate:
    """Answers permission requests from a list; records what was asked."""

    answers: list[Decision] = field(default_factory=list)
    asked: list[PermissionRequest] = field(default_factory=list)

    async def ask(self, request: PermissionRequest) -> Decision:
        self.asked.append(request)
        return self.answers.pop(0) if self.answers else "reject"


@dataclass
class Harness:
    root: Path
    server: FakeModelServer
    overrides: dict[str, Any] = field(default_factory=dict)
    gate: ScriptedGate = field(default_factory=ScriptedGate)
    sink: WatchSink = field(default_factory=WatchSink)
    conversation: Conversation | None = None
    extra_tools: list[Tool[Any]] = field(default_factory=list)
    runner: ToolRunner | None = None

    def settings(self) -> Settings:
        base = {
            "model": {"baseUrl": self.server.base_url, "name": "fake-model"},
            "permissions": {"mode": "auto"},
        }
        return Settings.model_validate(merge(base, self.overrides))

    async def run(self, prompt: str, api_key: str | None = None) -> RunFinished:
        settings = self.settings()
        tools = ToolSet([*default_tools(), *self.extra_tools])
        workspace = DiskWorkspace([self.root])
        permissions = Permissions(settings.permissions, self.gate, self.root, settings.shell)
        self.runner = ToolRunner(tools, workspace, permissions, settings, self.sink.emit)
        if self.conversation is None:
            window = settings.model.context_window or 100_000
            counter = TokenCounter(settings.model.name)
            self.conversation = Conversation(system_prompt(self.root), [], counter, window)
        async with ModelClient(settings.model, api_key, backoff_base_s=0.01) as model:
            return await run_agent(
                prompt,
                self.conversation,
                model=model,
                runner=self.runner,
                sink=self.sink,
                settings=settings,
            )

    @property
    def history(self) -> list[Message]:
        assert self.conversation is not None
        return self.conversation.messages

    @property
    def events(self) -> list[Event]:
        return self.sink.events

    def types(self) -> list[str]:
        return [e.type for e in self.sink.events]


def sent_messages(server: FakeModelServer, index: int = -1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = server.chat_requests[index].body["messages"]
    return messages


def roles(messages: Iterable[dict[str, Any]]) -> list[str]:
    return [m["role"] for m in messages]
