"""Sub-agents: the `task` tool's delegate. A sub-agent runs the same loop as its parent,
with its own conversation and a restricted toolset, inside the parent's run:

- the same workspace view, permissions (and gate: what it may write is still asked) and
  PreToolUse/PostToolUse hooks;
- the parent's Budget object itself, so every token, turn and tool call it spends counts
  against the run's limits (a limit it reaches stops the parent too);
- it runs in the parent's task: cancelling the run cancels its model stream and tools;
- its events go to the parent's sink tagged with the `task` call's id
  (`parent_tool_call_id`), its tool call ids prefixed with it (`PARENT/ID`), so front ends
  nest them and ids stay unique in the session.

A sub-agent gets no `task` tool of its own (depth 1).
"""

from __future__ import annotations

import asyncio
import datetime
import platform
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lsp_agent.agent.agents import DEFAULT_AGENT, AgentType, AgentTypes, load_agents
from lsp_agent.agent.context import load_instructions
from lsp_agent.agent.conversation import Conversation
from lsp_agent.agent.events import Event, EventSink, RunFinished, RunStarted
from lsp_agent.agent.tokens import TokenCounter
from lsp_agent.agent.tool_runner import READ_KINDS, ToolRunner
from lsp_agent.config import Settings
from lsp_agent.model.client import ModelClient
from lsp_agent.model.errors import ModelError
from lsp_agent.model.wire import AssistantMessage, SystemMessage, ToolCall, UserMessage
from lsp_agent.tools.base import Tool, ToolError, ToolSet

if TYPE_CHECKING:
    from lsp_agent.agent.budget import Budget

TASK_TOOL = "task"
NOT_FOR_SUBAGENTS = frozenset({TASK_TOOL, "update_plan"})  # no nesting; the plan is the parent's


class NestedSink:
    """The parent's sink, for one sub-agent: events tagged, tool call ids prefixed."""

    def __init__(self, inner: EventSink, parent_id: str) -> None:
        self.inner, self.parent_id = inner, parent_id

    def emit(self, event: Event) -> None:
        if isinstance(event, RunStarted | RunFinished):  # the parent's run reports those
            return
        update: dict[str, Any] = {"parent_tool_call_id": self.parent_id}
        own = getattr(event, "tool_call_id", None)
        if isinstance(own, str):
            update["tool_call_id"] = f"{self.parent_id}/{own}"
        self.inner.emit(event.model_copy(update=update))


@dataclass
class SubAgents:
    """The Delegate a run's tool runner hands to the `task` tool."""

    model: ModelClient
    budget: Budget
    settings: Settings
    parent: ToolRunner
    sink: EventSink
    window: int
    agents: AgentTypes
    _slots: asyncio.Semaphore = field(init=False)
    _clients: dict[str, ModelClient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.agents.max_concurrent)

    async def run(self, prompt: str, agent: str | None, parent_tool_call_id: str) -> str:
        kind = self._agent(agent)
        tools = self._tools(kind)
        async with self._slots:
            return await self._run(prompt, kind, tools, parent_tool_call_id)

    async def _run(self, prompt: str, kind: AgentType, tools: ToolSet, parent_id: str) -> str:
        from lsp_agent.agent.loop import _loop  # the loop imports this module

        settings = self.settings
        if kind.model and kind.model != settings.model.name:
            settings = settings.model_copy(
                update={"model": settings.model.model_copy(update={"name": kind.model})}
            )
        sink = NestedSink(self.sink, parent_id)
        parent = self.parent
        runner = ToolRunner(
            tools,
            parent.workspace,
            parent.permissions,
            settings,
            sink.emit,
            secrets=parent.secrets,
            hooks=parent.hooks,
            id_prefix=f"{parent_id}/",
        )
        counter = TokenCounter(settings.model.name)
        await counter.load()
        conversation = Conversation(self._system(kind, tools), [], counter, self.window)
        await conversation.add(UserMessage(content=prompt))
        pending: list[ToolCall] = []
        try:
            # No Stop hooks: those are for the user's prompt, not for a delegated task.
            stop = await _loop(
                conversation, pending, self._model(settings), runner, sink, self.budget, settings
            )
        except asyncio.CancelledError:
            runner.settle(pending)  # its open calls end as "interrupted" in the transcript
            raise
        except ModelError as e:  # a context overflow included
            raise ToolError(f"The sub-agent failed: {e}") from None
        finally:
            self.parent.edited.extend(p for p in runner.edited if p not in self.parent.edited)
        answer = _last_answer(conversation)
        if stop.reason == "end_turn":
            return answer or "(the sub-agent finished without a report)"
        why = stop.reason + (f" ({stop.limit})" if stop.limit else "")
        said = f" Its last words:\n\n{answer}" if answer else ""
        return f"The sub-agent stopped before finishing: {why}.{said}"

    def _agent(self, name: str | None) -> AgentType:
        found = self.agents.found.get((name or DEFAULT_AGENT).strip().lower())
        if found is None:
            known = ", ".join(self.agents.found)
            raise ToolError(f"Unknown agent type '{name}'. Available agent types: {known}.")
        return found

    def _tools(self, kind: AgentType) -> ToolSet:
        available = [t for t in self.parent.tools if t.name not in NOT_FOR_SUBAGENTS]
        if kind.tools is None:
            return ToolSet(t for t in available if t.kind in READ_KINDS)
        by_name = {t.name: t for t in available}
        unknown = [n for n in kind.tools if n not in by_name]
        if unknown:
            known = ", ".join(by_name)
            raise ToolError(
                f"Agent type '{kind.name}' names tools that do not exist here: "
                f"{', '.join(unknown)}. Available to sub-agents: {known}."
            )
        return ToolSet(by_name[n] for n in kind.tools)

    def _model(self, settings: Settings) -> ModelClient:
        if settings.model.name == self.settings.model.name:
            return self.model
        client = self._clients.get(settings.model.name)
        if client is None:
            client = ModelClient(settings.model, settings.api_key())
            self._clients[settings.model.name] = client
        return client

    def _system(self, kind: AgentType, tools: ToolSet) -> SystemMessage:
        root = self.parent.workspace.roots[0]
        instructions = load_instructions(root)
        text = (
            f"{kind.prompt}\n\nWorkspace root: {root}\n"
            f"Platform: {platform.system()} {platform.machine()}\n"
            f"Date: {datetime.date.today().isoformat()}\n"
            f"Paths are relative to the workspace root. Your tools: {', '.join(tools.names())}."
        )
        if instructions.text:
            text += "\n\nThe project's instruction files follow.\n\n" + instructions.text
        return SystemMessage(content=text)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _last_answer(conversation: Conversation) -> str:
    for message in reversed(conversation.messages):
        if isinstance(message, AssistantMessage) and (message.content or "").strip():
            return (message.content or "").strip()
    return ""


def attach(
    runner: ToolRunner,
    *,
    model: ModelClient,
    budget: Budget,
    settings: Settings,
    sink: EventSink,
    window: int,
) -> tuple[SubAgents | None, list[str]]:
    """Give a run's runner its sub-agents, when it has the `task` tool: the tool's
    description then lists the agent types. Returns them, and notes on bad agent files."""
    task = runner.tools.get(TASK_TOOL)
    if task is None:
        return None, []
    agents = load_agents(runner.workspace.roots[0])
    described: Tool[Any] = replace(
        task, description=f"{task.description}\n\nAgent types:\n{agents.listing()}"
    )
    runner.tools = ToolSet(described if t.name == TASK_TOOL else t for t in runner.tools)
    delegate = SubAgents(model, budget, settings, runner, sink, window, agents)
    runner.delegate = delegate
    return delegate, agents.notes
