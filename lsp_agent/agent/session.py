"""Sessions: a conversation that outlives a run, stored, resumable, and undoable.

The front ends (CLI, language server) open a session, then `prompt` it with their own
workspace view, event sink and permission gate.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from lsp_agent.agent.budget import Budget
from lsp_agent.agent.commands import SLASH_COMMANDS, expand_prompt
from lsp_agent.agent.context import load_instructions, system_prompt
from lsp_agent.agent.conversation import Conversation
from lsp_agent.agent.events import Compacted, EventSink, RunFinished, UsageInfo
from lsp_agent.agent.loop import run_agent, summarizer
from lsp_agent.agent.recorder import RecordingSink, StoreTranscript
from lsp_agent.agent.tokens import DEFAULT_WINDOW, TokenCounter, known_window
from lsp_agent.agent.tool_runner import ToolRunner
from lsp_agent.config import Settings
from lsp_agent.hooks import FIELDS, Hooks
from lsp_agent.model.client import ModelClient
from lsp_agent.model.wire import Message
from lsp_agent.permissions import PermissionGate, Permissions
from lsp_agent.secrets import known_secrets
from lsp_agent.store import AsyncSessionStore, SessionInfo, title_from_prompt
from lsp_agent.tools.base import ToolSet
from lsp_agent.workspace import Workspace


@dataclass
class Session:
    info: SessionInfo
    messages: list[Message]  # what the model sees, without the system prompt
    stored: int  # messages in the store (compaction hides some from the model)
    permissions: Permissions | None = None  # keeps "allow always" across prompts
    counter: TokenCounter | None = None

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def root(self) -> Path:
        return Path(self.info.workspace)


@dataclass
class RunEnv:
    """What a front end supplies for one prompt."""

    settings: Settings
    model: ModelClient
    workspace: Workspace
    sink: EventSink
    gate: PermissionGate | None
    tools: ToolSet
    window: int | None = None  # learned from the server, cached by the front end
    notes: list[str] = field(default_factory=list)  # said once in run_started (MCP failures)
    secrets: tuple[str, ...] = ()  # redacted besides the known ones (MCP ${VAR} values)


async def new_session(store: AsyncSessionStore, root: Path, title: str = "") -> Session:
    info = await store.create_session(str(root), title)
    return Session(info, [], 0)


async def load_session(store: AsyncSessionStore, session_id: str) -> Session:
    """Resume: repair a transcript a crash left invalid, then load what the model sees."""
    info = await store.get_session(session_id)
    await store.repair_session(session_id)
    await store.interrupt_tool_calls(session_id)
    messages, stored = await store.load_transcript(session_id)
    return Session(info, messages, stored)


async def context_window(settings: Settings, model: ModelClient) -> int:
    """Settings, else the server's metadata, else what the model is known for, else a
    conservative default."""
    return (
        settings.model.context_window
        or await model.context_window()
        or known_window(settings.model.name)
        or DEFAULT_WINDOW
    )


async def prompt(store: AsyncSessionStore, session: Session, text: str, env: RunEnv) -> RunFinished:
    """Run one prompt (or a slash command) in a session, recording everything."""
    typed = text
    try:
        if text.strip() not in SLASH_COMMANDS:
            text, notes = await expand_prompt(text, session.root, env.workspace)
            env = replace(env, notes=[*env.notes, *notes])
        conversation, runner, sink, instructions = await _prepare(store, session, typed, env)
    except asyncio.CancelledError:  # cancelled before the loop took over: still a clean stop
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        finished = RunFinished(
            stop_reason="cancelled", usage=UsageInfo(), turns=0, tool_calls=0, duration_s=0
        )
        env.sink.emit(finished)
        return finished
    try:
        if text.strip() in SLASH_COMMANDS:
            return await _slash(text.strip(), conversation, runner, env, sink)
        return await run_agent(
            text,
            conversation,
            model=env.model,
            runner=runner,
            sink=sink,
            settings=env.settings,
            instructions=instructions,
            hooks=runner.hooks,
            notes=env.notes,
        )
    finally:
        session.messages = conversation.messages[1:]
        session.stored = conversation.stored
        await sink.flush()


async def _prepare(
    store: AsyncSessionStore, session: Session, text: str, env: RunEnv
) -> tuple[Conversation, ToolRunner, RecordingSink, list[str]]:
    """The conversation, tool runner and recording sink of one prompt."""
    settings = env.settings
    if session.counter is None or session.counter.model != settings.model.name:
        session.counter = TokenCounter(settings.model.name)
    await session.counter.load()
    if session.permissions is None or session.permissions.settings != settings.permissions:
        # The roots, not the working directory, are what permissions judge paths against.
        session.permissions = Permissions(
            settings.permissions, env.gate, env.workspace.roots[0], settings.shell
        )
    else:
        session.permissions.gate = env.gate
    cwd = env.workspace.cwd  # the stored cwd, unless it is no longer inside the roots
    instructions = load_instructions(cwd)
    turn = await store.last_turn(session.id) + 1
    window = env.window or await context_window(settings, env.model)
    conversation = Conversation(
        system_prompt(cwd, instructions, env.workspace.roots),
        session.messages,
        session.counter,
        window,
        transcript=StoreTranscript(store, session.id, turn),
        stored=session.stored,
        threshold=settings.model.compact_at,
    )
    if not session.info.title and text.strip() not in SLASH_COMMANDS:
        title = title_from_prompt(text)
        await store.set_title(session.id, title)
        session.info = session.info.model_copy(update={"title": title})
    run_id = await store.start_run(session.id, settings.model.name)
    sink = RecordingSink(env.sink, store, session.id, run_id, turn)
    secrets = (*known_secrets(settings.api_key()), *env.secrets) if env.secrets else None
    runner = ToolRunner(
        env.tools, env.workspace, session.permissions, settings, sink.emit, secrets=secrets
    )
    if any(getattr(settings.hooks, name) for name in FIELDS.values()):
        runner.hooks = Hooks(
            settings, list(env.workspace.roots), session.id, session.permissions.mode
        )
    return conversation, runner, sink, instructions.files


async def _slash(
    command: str, conversation: Conversation, runner: ToolRunner, env: RunEnv, sink: EventSink
) -> RunFinished:
    """/compact summarizes now; /clear starts the model afresh (the store keeps all)."""
    specs = runner.tools.specs()
    budget = Budget(env.settings.limits, env.settings.model.pricing.get(env.settings.model.name))
    event: Compacted | None
    if command == "/clear":
        event = await conversation.clear(specs)
    else:
        summarize = summarizer(env.model, budget, conversation.window)
        event = await conversation.fit(specs, summarize, reason="requested", force=True)
    if event is not None:
        sink.emit(event)
    usage = budget.usage
    finished = RunFinished(
        stop_reason="end_turn",
        usage=UsageInfo(**usage.model_dump(), total_tokens=usage.total_tokens),
        turns=0,
        tool_calls=0,
        duration_s=round(budget.elapsed_s, 3),
    )
    sink.emit(finished)
    return finished
