"""Sessions through the engine: prompts recorded in a real store, resumed, compacted,
cleared; instruction files; the context window; no secrets in the store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from lsp_agent.agent.compact import SUMMARY_OPEN, SUMMARY_SYSTEM
from lsp_agent.agent.context import FILE_CAP, INSTRUCTION_FILES, TOTAL_CAP
from lsp_agent.agent.events import Compacted, RunFinished, RunStarted, UsageUpdated
from lsp_agent.agent.session import RunEnv, Session, load_session, new_session, prompt
from lsp_agent.agent.tokens import DEFAULT_WINDOW
from lsp_agent.config import Settings, merge
from lsp_agent.model.client import ModelClient
from lsp_agent.model.wire import UserMessage
from lsp_agent.store import REDACTED, AsyncSessionStore, SessionStore
from lsp_agent.tools import default_tools
from lsp_agent.tools.base import Tool, ToolContext, ToolResult, ToolSet, tool
from lsp_agent.workspace import DiskWorkspace
from tests.agent_harness import ScriptedGate, WatchSink, roles
from tests.fakes.model_server import FakeModelServer, error_reply, text_reply, tool_call_reply


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    total = prompt_tokens + completion_tokens
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": total,
    }


@dataclass
class Engine:
    """What a front end does around `prompt`: settings, a model client, tools, a sink."""

    root: Path
    server: FakeModelServer
    store_path: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    sink: WatchSink = field(default_factory=WatchSink)
    extra_tools: list[Tool[Any]] = field(default_factory=list)
    api_key: str | None = None
    secrets: list[str] = field(default_factory=list)

    def settings(self) -> Settings:
        base = {
            "model": {"baseUrl": self.server.base_url, "name": "fake-model"},
            "permissions": {"mode": "auto"},
        }
        return Settings.model_validate(merge(base, self.overrides))

    async def open(self) -> AsyncSessionStore:
        return await AsyncSessionStore.open(self.store_path, secrets=self.secrets)

    async def prompt(self, store: AsyncSessionStore, session: Session, text: str) -> RunFinished:
        settings = self.settings()
        async with ModelClient(settings.model, self.api_key, backoff_base_s=0.01) as model:
            env = RunEnv(
                settings=settings,
                model=model,
                workspace=DiskWorkspace([self.root]),
                sink=self.sink,
                gate=ScriptedGate(),
                tools=ToolSet([*default_tools(), *self.extra_tools]),
            )
            return await prompt(store, session, text, env)

    def of(self, kind: type[Any]) -> list[Any]:
        return self.sink.of(kind)


@pytest.fixture
def engine(tmp_path: Path, model_server: FakeModelServer) -> Engine:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n")
    return Engine(root.resolve(), model_server, tmp_path / "state" / "sessions.db")


@pytest.fixture
async def store(engine: Engine) -> AsyncIterator[AsyncSessionStore]:
    async with await engine.open() as s:
        yield s


def sent(server: FakeModelServer, index: int = -1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = server.chat_requests[index].body["messages"]
    return messages


READ_A = tool_call_reply([("read_file", {"path": "a.txt"})])


# --- recording ----------------------------------------------------------------------------


class NoArgs(BaseModel):
    pass


async def test_messages_are_committed_one_at_a_time(
    engine: Engine, store: AsyncSessionStore
) -> None:
    """While a tool runs, another connection already sees the request and the call."""
    session = await new_session(store, engine.root)

    @tool(kind="read")
    async def peek(args: NoArgs, ctx: ToolContext) -> ToolResult:
        """Test tool: what another process would read from the store right now."""

        def look() -> list[str]:
            with SessionStore(engine.store_path) as other:
                return [m.role for m in other.load_messages(session.id)]

        return ToolResult(" ".join(await asyncio.to_thread(look)))

    engine.extra_tools = [peek]
    engine.server.script(tool_call_reply([("peek", {})]), text_reply("done"))
    result = await engine.prompt(store, session, "peek at the store")
    assert result.stop_reason == "end_turn"
    assert sent(engine.server)[-1]["content"] == "user assistant"
    stored = await store.load_messages(session.id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[0] == UserMessage(content="peek at the store")
    assert session.stored == 4 and len(session.messages) == 4


async def test_title_comes_from_the_first_prompt(engine: Engine, store: AsyncSessionStore) -> None:
    session = await new_session(store, engine.root)
    engine.server.script(text_reply("ok"), text_reply("ok"), text_reply("ok"))
    await engine.prompt(store, session, "/clear")  # a command is no title
    assert (await store.get_session(session.id)).title == ""
    await engine.prompt(store, session, "\n  Fix   the parser\nit fails on empty input")
    await engine.prompt(store, session, "and now the tests")
    assert (await store.get_session(session.id)).title == "Fix the parser"
    assert session.info.title == "Fix the parser"
    assert [s.title for s in await store.list_sessions(engine.root)] == ["Fix the parser"]


async def test_resume_sends_the_whole_transcript(engine: Engine) -> None:
    engine.server.script(READ_A, text_reply("It says alpha."), text_reply("Sure."))
    async with await engine.open() as store:
        session = await new_session(store, engine.root)
        await engine.prompt(store, session, "what is in a.txt?")
        first_run = sent(engine.server)

    async with await engine.open() as store:  # a new process
        resumed = await load_session(store, session.id)
        assert resumed.stored == 4 and len(resumed.messages) == 4
        result = await engine.prompt(store, resumed, "thanks")

    assert result.stop_reason == "end_turn"
    messages = sent(engine.server)
    assert roles(messages) == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert messages[:4] == first_run  # the same system prompt and history, byte for byte
    assert messages[4] == {"role": "assistant", "content": "It says alpha."}
    assert messages[5] == {"role": "user", "content": "thanks"}


async def test_usage_is_not_counted_twice_after_a_resume(engine: Engine) -> None:
    engine.server.script(
        tool_call_reply([("list_dir", {})], usage=usage(100, 10)),
        text_reply("listed", usage=usage(120, 20)),
        text_reply("again", usage=usage(300, 30)),
    )
    async with await engine.open() as store:
        session = await new_session(store, engine.root)
        await engine.prompt(store, session, "list")
        first = await store.session_usage(session.id)
    assert (first.usage.prompt_tokens, first.usage.completion_tokens, first.runs) == (220, 30, 1)

    async with await engine.open() as store:
        resumed = await load_session(store, session.id)
        await engine.prompt(store, resumed, "again")
        totals = await store.session_usage(session.id)
        runs = await store.list_runs(session.id)
    assert (totals.usage.prompt_tokens, totals.usage.completion_tokens) == (520, 60)
    assert totals.runs == 2
    assert [r.usage.prompt_tokens for r in runs] == [220, 300]
    assert [r.stop_reason for r in runs] == ["end_turn", "end_turn"]


# --- /compact and /clear -----------------------------------------------------------------


async def test_compact_command_is_kept_across_a_resume(engine: Engine) -> None:
    (engine.root / "a.txt").write_text("alpha\n" * 300)  # worth compacting
    engine.server.script(
        READ_A,
        text_reply("It says alpha."),
        text_reply("- read a.txt: it says alpha"),  # the summary
        text_reply("Done."),
    )
    async with await engine.open() as store:
        session = await new_session(store, engine.root)
        await engine.prompt(store, session, "what is in a.txt?")
        result = await engine.prompt(store, session, "/compact")
        assert result.stop_reason == "end_turn"
        assert len(await store.load_messages(session.id)) == 4  # the store keeps everything

    summary_request = engine.server.chat_requests[2].body
    assert "tools" not in summary_request
    assert summary_request["messages"][0]["content"] == SUMMARY_SYSTEM
    assert "It says alpha." in summary_request["messages"][1]["content"]
    (compacted,) = engine.of(Compacted)
    assert (compacted.method, compacted.reason) == ("summarize", "requested")
    assert compacted.tokens_after < compacted.tokens_before

    async with await engine.open() as store:
        resumed = await load_session(store, session.id)
        await engine.prompt(store, resumed, "next step")
    messages = sent(engine.server)
    assert roles(messages) == ["system", "user", "user"]
    carried = messages[1]["content"]
    assert carried.startswith(SUMMARY_OPEN) and "- read a.txt: it says alpha" in carried
    assert carried.endswith("what is in a.txt?")
    assert messages[2]["content"] == "next step"


async def test_clear_command_is_kept_across_a_resume(engine: Engine) -> None:
    engine.server.script(READ_A, text_reply("It says alpha."), text_reply("Fresh start."))
    async with await engine.open() as store:
        session = await new_session(store, engine.root)
        await engine.prompt(store, session, "what is in a.txt?")
        result = await engine.prompt(store, session, "/clear")
        assert result.stop_reason == "end_turn"
    assert len(engine.server.chat_requests) == 2  # /clear asks the model nothing
    (cleared,) = engine.of(Compacted)
    assert cleared.method == "clear" and cleared.tokens_after < cleared.tokens_before

    async with await engine.open() as store:
        resumed = await load_session(store, session.id)
        assert resumed.messages == [] and resumed.stored == 4
        await engine.prompt(store, resumed, "hello again")
        assert len(await store.load_messages(session.id)) == 6
    assert roles(sent(engine.server)) == ["system", "user"]
    assert sent(engine.server)[1]["content"] == "hello again"


async def test_a_compaction_mid_run_is_resumed_as_the_model_saw_it(engine: Engine) -> None:
    (engine.root / "big.txt").write_text("all words on this line\n" * 500)
    engine.overrides = {"model": {"contextWindow": 4000}}
    engine.server.script(  # no usage: the token estimate stays uncalibrated
        tool_call_reply([("read_file", {"path": "big.txt"})], usage=None),
        text_reply("- read big.txt, it is all words", usage=None),  # the summary
        text_reply("It is all words.", usage=None),
        text_reply("Bye.", usage=None),
    )
    async with await engine.open() as store:
        session = await new_session(store, engine.root)
        await engine.prompt(store, session, "read big.txt")
    (compacted,) = engine.of(Compacted)
    assert (compacted.method, compacted.reason) == ("summarize", "threshold")
    seen = sent(engine.server)
    assert roles(seen) == ["system", "user"] and seen[1]["content"].startswith(SUMMARY_OPEN)

    async with await engine.open() as store:
        resumed = await load_session(store, session.id)
        assert resumed.stored == 4
        await engine.prompt(store, resumed, "thanks")
        assert len(await store.load_messages(session.id)) == 6
    assert sent(engine.server) == [
        *seen,
        {"role": "assistant", "content": "It is all words."},
        {"role": "user", "content": "thanks"},
    ]


# --- instructions, context window --------------------------------------------------------


async def test_instruction_files_reach_the_system_prompt(
    engine: Engine, store: AsyncSessionStore
) -> None:
    for name in INSTRUCTION_FILES:
        path = engine.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"RULE FROM {name}\n")
    engine.server.script(text_reply("ok"))
    session = await new_session(store, engine.root)
    await engine.prompt(store, session, "hi")
    system = sent(engine.server)[0]["content"]
    for name in INSTRUCTION_FILES:
        assert f"RULE FROM {name}" in system
        assert f'<instructions file="{name}">' in system
    (started,) = engine.of(RunStarted)
    assert started.instructions == list(INSTRUCTION_FILES)


async def test_instruction_files_are_capped(engine: Engine, store: AsyncSessionStore) -> None:
    (engine.root / "AGENTS.md").write_text("A" * (FILE_CAP + 5000) + "END-OF-AGENTS")
    (engine.root / "CLAUDE.md").write_text("C" * (TOTAL_CAP - FILE_CAP))  # over the total
    engine.server.script(text_reply("ok"))
    session = await new_session(store, engine.root)
    await engine.prompt(store, session, "hi")
    system = sent(engine.server)[0]["content"]
    assert "END-OF-AGENTS" not in system and "AGENTS.md truncated" in system
    assert "CCCC" not in system
    assert system.count("A") < FILE_CAP + 1000
    (started,) = engine.of(RunStarted)
    assert started.instructions == ["AGENTS.md"]  # what was loaded, and only that


@pytest.mark.parametrize(
    ("n_ctx", "setting", "window"),
    [(5000, None, 5000), (5000, 7777, 7777), (None, None, DEFAULT_WINDOW)],
)
async def test_usage_reports_the_context_window_and_use(
    engine: Engine,
    store: AsyncSessionStore,
    n_ctx: int | None,
    setting: int | None,
    window: int,
) -> None:
    engine.server.n_ctx = n_ctx
    if setting is not None:
        engine.overrides = {"model": {"contextWindow": setting}}
    engine.server.script(
        tool_call_reply([("list_dir", {})], usage=usage(900, 40)),
        text_reply("ok", usage=usage(1000, 50)),
    )
    session = await new_session(store, engine.root)
    await engine.prompt(store, session, "hi")
    events = engine.of(UsageUpdated)
    assert [(e.context_used, e.context_window) for e in events] == [
        (940, window),
        (1050, window),
    ]
    assert events[-1].usage.prompt_tokens == 1900
    probes = [r.route for r in engine.server.requests if r.method == "GET"]
    assert (probes == []) == (setting is not None)  # the server is asked only when needed


async def test_context_use_is_estimated_when_the_server_reports_no_usage(
    engine: Engine, store: AsyncSessionStore
) -> None:
    engine.server.script(text_reply("ok", usage=None))
    session = await new_session(store, engine.root)
    await engine.prompt(store, session, "hi")
    (event,) = engine.of(UsageUpdated)
    assert event.usage.prompt_tokens == 0
    assert 1000 < event.context_used < event.context_window  # the system prompt and tools


# --- secrets --------------------------------------------------------------------------------

SECRET = "sk-session-SECRET-0123456789abcdef"


async def test_no_api_key_in_the_store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    engine.api_key = SECRET
    engine.secrets = [SECRET]
    engine.overrides = {"model": {"maxAttempts": 1}}
    engine.server.script(
        tool_call_reply([("bash", {"command": f"env; echo pasted={SECRET}"})]),
        error_reply(401, f"Incorrect API key provided: {SECRET}"),
    )
    async with await engine.open() as store:
        session = await new_session(store, engine.root)
        result = await engine.prompt(store, session, f"my key is {SECRET}, use it")
        assert result.stop_reason == "model_error"
        stored = await store.load_messages(session.id)
        tool_output = stored[2].content or ""
        assert "PATH=" in tool_output and f"pasted={REDACTED}" in tool_output
        assert (await store.get_session(session.id)).title == f"my key is {REDACTED}, use it"
    # The model did see the pasted key: it is the store that must not keep it.
    assert SECRET in str(engine.server.chat_requests[-1].body)
    files = [p for p in engine.store_path.parent.iterdir() if p.is_file()]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
