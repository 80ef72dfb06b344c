"""Conversation: compaction invariants over random transcripts, then compaction in real runs
against the fake server (threshold, reactive overflow, the learned window)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_agent.agent.compact import CONTINUE_PROMPT, SUMMARY_OPEN, SUMMARY_SYSTEM
from lsp_agent.agent.context import system_prompt
from lsp_agent.agent.conversation import Conversation
from lsp_agent.agent.events import Compacted, RunFinished, UsageUpdated
from lsp_agent.agent.tokens import BYTES_PER_TOKEN, TokenCounter
from lsp_agent.model.errors import ModelError
from lsp_agent.model.wire import (
    AssistantMessage,
    FunctionCall,
    Message,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from tests.agent_harness import Harness, roles, sent_messages
from tests.fakes.model_server import (
    FakeModelServer,
    FakeResponse,
    RecordedRequest,
    context_overflow_reply,
    text_reply,
)

SYSTEM = SystemMessage(content="You are a test agent. " * 5)
SPECS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "read_file", "description": "Read. " * 40}}
]


class FakeTranscript:
    """Records what a Conversation persists, as the session store would."""

    def __init__(self) -> None:
        self.stored: list[Message] = []
        self.checkpoints: list[tuple[int, list[Message]]] = []

    async def append(self, *messages: Message) -> None:
        self.stored.extend(messages)

    async def checkpoint(self, position: int, prefix: list[Message]) -> None:
        self.checkpoints.append((position, list(prefix)))

    def seen_by_model(self) -> list[Message]:
        """What a resumed session would load: the latest checkpoint applied."""
        position, prefix = self.checkpoints[-1] if self.checkpoints else (0, [])
        return prefix + self.stored[position:]


def transcript_errors(messages: list[Message]) -> list[str]:
    """Why a provider would reject this transcript (empty when it is valid)."""
    errors, i = [], 0
    while i < len(messages):
        m = messages[i]
        i += 1
        if isinstance(m, ToolMessage):
            errors.append(f"tool result {m.tool_call_id} at {i - 1} follows no call")
            continue
        if not (isinstance(m, AssistantMessage) and m.tool_calls):
            continue
        wanted = [c.id for c in m.tool_calls]
        answered = []
        while i < len(messages) and isinstance(messages[i], ToolMessage):
            answered.append(messages[i].tool_call_id)  # type: ignore[union-attr]
            i += 1
        if sorted(answered) != sorted(wanted):
            errors.append(f"calls {wanted} answered by {answered}")
    return errors


def request_text(messages: list[Message]) -> str | None:
    """The latest user request, without a summary a previous compaction put in front."""
    users = [m for m in messages if isinstance(m, UserMessage) and m.content != CONTINUE_PROMPT]
    if not users:
        return None
    text = users[-1].content
    if text.startswith(SUMMARY_OPEN):
        text = text.split("</compacted-context>\n\n", 1)[-1]
    return text


def request_message(messages: list[Message]) -> str | None:
    """The content of the latest user message that is not a "continue" prompt."""
    users = [m for m in messages if isinstance(m, UserMessage) and m.content != CONTINUE_PROMPT]
    return users[-1].content if users else None


def same_modulo_snips(a: list[Message], b: list[Message]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, ToolMessage) and isinstance(y, ToolMessage):
            if x.tool_call_id != y.tool_call_id:
                return False
        elif x != y:
            return False
    return True


# --- random transcripts ---------------------------------------------------------------------


@st.composite
def fillers(draw: st.DrawFn, max_size: int = 3000) -> str:
    size = draw(st.integers(0, max_size))
    piece = draw(st.sampled_from(["a", "word ", "€", "日本", "x\n", "{}"]))
    return (piece * size)[:size]


@st.composite
def transcripts(draw: st.DrawFn) -> list[Message]:
    """Valid transcripts: user requests, each followed by assistant steps with 0..3 tool
    calls and their results; it may stop after a request or after tool results."""
    reuse_ids = draw(st.booleans())  # some servers number calls call_0, call_1 every turn
    messages: list[Message] = []
    n = 0
    for e in range(draw(st.integers(1, 4))):
        text = f"request-{e} " + draw(fillers(max_size=400))
        if e == 0 and draw(st.booleans()):  # a previous compaction's carried request
            text = f"{SUMMARY_OPEN}\nold summary\n</compacted-context>\n\n{text}"
        messages.append(UserMessage(content=text))
        for _ in range(draw(st.integers(0, 4))):
            k = draw(st.integers(0, 3))
            ids = [f"call_{j}" if reuse_ids else f"c{n + j}" for j in range(k)]
            n += k
            content = draw(fillers(max_size=600)) if k == 0 or draw(st.booleans()) else None
            calls = [
                ToolCall(id=i, function=FunctionCall(name="read_file", arguments='{"p":1}'))
                for i in ids
            ]
            messages.append(AssistantMessage(content=content, tool_calls=calls or None))
            messages.extend(ToolMessage(tool_call_id=i, content=draw(fillers())) for i in ids)
            if not ids and draw(st.booleans()):  # the answer was cut off: "continue"
                messages.append(UserMessage(content=CONTINUE_PROMPT))
    return messages


def fake_summarizer(length: int | None) -> Any:
    async def summarize(messages: list[Message]) -> str:
        assert messages, "asked to summarize nothing"
        if length is None:
            raise ModelError("the summary request failed")
        return "S" * length

    return summarize


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    messages=transcripts(),
    window=st.integers(60, 4000),
    reason=st.sampled_from(["threshold", "overflow", "requested"]),
    summary_length=st.none() | st.integers(1, 3000),
    with_specs=st.booleans(),
)
def test_compaction_invariants(
    messages: list[Message],
    window: int,
    reason: str,
    summary_length: int | None,
    with_specs: bool,
) -> None:
    specs = SPECS if with_specs else []
    transcript = FakeTranscript()
    conversation = Conversation(
        SYSTEM, [], TokenCounter("fake-model"), window, transcript=transcript
    )
    asyncio.run(conversation.add(*messages))
    assert transcript_errors(conversation.messages[1:]) == []  # the generator is sound
    before = conversation.estimate(specs)
    request = request_text(messages)
    force = reason != "threshold"

    event = asyncio.run(
        conversation.fit(specs, fake_summarizer(summary_length), reason=reason, force=force)
    )

    after = conversation.messages
    assert after[0] is SYSTEM
    assert not any(isinstance(m, SystemMessage) for m in after[1:])
    assert transcript_errors(after[1:]) == []
    assert request is not None and request in (request_message(after) or "")
    assert isinstance(after[1], UserMessage)  # the model sees a request first
    assert conversation.estimate(specs) <= before
    if event is not None:
        assert event.tokens_before == before
        assert event.tokens_after == conversation.estimate(specs) <= before
        assert event.reason == reason
    if reason == "threshold" and before <= int(conversation.threshold * window):
        assert event is None and after[1:] == messages
    # The store keeps every message; a resumed session sees what the model sees now.
    assert transcript.stored == messages and conversation.stored == len(messages)
    assert same_modulo_snips(transcript.seen_by_model(), after[1:])


async def test_clear_leaves_only_the_system_prompt_and_checkpoints() -> None:
    transcript = FakeTranscript()
    conversation = Conversation(SYSTEM, [], TokenCounter("fake-model"), 1000, transcript=transcript)
    await conversation.add(UserMessage(content="hi"), AssistantMessage(content="hello"))
    event = await conversation.clear(SPECS)
    assert conversation.messages == [SYSTEM]
    assert (event.method, event.reason) == ("clear", "requested")
    assert event.tokens_after < event.tokens_before
    assert transcript.seen_by_model() == [] and len(transcript.stored) == 2
    await conversation.add(UserMessage(content="again"))
    assert transcript.seen_by_model() == [UserMessage(content="again")]


async def test_learn_window_only_shrinks() -> None:
    conversation = Conversation(SYSTEM, [], TokenCounter("fake-model"), 8000)
    conversation.learn_window(None)
    conversation.learn_window(0)
    conversation.learn_window(100_000)
    assert conversation.window == 8000
    conversation.learn_window(4096)
    assert conversation.window == 4096


async def test_nothing_to_summarize_costs_no_model_call() -> None:
    """A lone request cannot be summarized away: no summary call, nothing changes."""
    calls: list[list[Message]] = []

    async def summarize(messages: list[Message]) -> str:
        calls.append(messages)
        return "summary"

    conversation = Conversation(SYSTEM, [], TokenCounter("fake-model"), 100)
    await conversation.add(UserMessage(content="x" * 2000))
    before = list(conversation.messages)
    event = await conversation.fit([], summarize, reason="overflow", force=True)
    assert event is None and calls == [] and conversation.messages == before


async def test_requested_compaction_summarizes_everything() -> None:
    """/compact: however small the history, all of it goes into the summary."""
    seen: list[list[Message]] = []

    async def summarize(messages: list[Message]) -> str:
        seen.append(messages)
        return "- read a.py"

    transcript = FakeTranscript()
    conversation = Conversation(
        SYSTEM, [], TokenCounter("fake-model"), 100_000, transcript=transcript
    )
    call = ToolCall(id="c1", function=FunctionCall(name="read_file", arguments='{"p":1}'))
    history: list[Message] = [
        UserMessage(content="look at a.py"),
        AssistantMessage(content=None, tool_calls=[call]),
        ToolMessage(tool_call_id="c1", content="print('hello')\n" * 50),
        AssistantMessage(content="It prints hello."),
    ]
    await conversation.add(*history)
    event = await conversation.fit([], summarize, reason="requested", force=True)
    assert event is not None and event.method == "summarize"
    assert seen == [history]
    assert len(conversation.messages) == 2
    carried = conversation.messages[1].content or ""
    assert carried.endswith("- read a.py\n</compacted-context>\n\nlook at a.py")
    assert transcript.seen_by_model() == conversation.messages[1:]


# --- in real runs ---------------------------------------------------------------------------


def prefilled(
    root: Path, window: int, turns: int, size: int, *, chatty: bool = False
) -> Conversation:
    """A conversation of earlier work: `turns` file reads of `size` characters each, or
    (chatty) long answers that snipping tool outputs cannot shrink."""
    messages: list[Message] = [UserMessage(content="earlier: look at the files")]
    for i in range(turns):
        call = ToolCall(
            id=f"old_{i}", function=FunctionCall(name="read_file", arguments=f'{{"path":"f{i}"}}')
        )
        said = f"reading f{i}" + (" and thinking" * (size // 13) if chatty else "")
        output = f"f{i}:" + ("ok" if chatty else "z" * size)
        messages.append(AssistantMessage(content=said, tool_calls=[call]))
        messages.append(ToolMessage(tool_call_id=f"old_{i}", content=output))
    messages.append(AssistantMessage(content="I looked at all the files."))
    return Conversation(system_prompt(root), messages, TokenCounter("fake-model"), window)


@pytest.fixture
def harness(tmp_path: Path, model_server: FakeModelServer) -> Harness:
    return Harness(tmp_path, model_server)


async def test_threshold_compaction_summarizes_before_the_request(harness: Harness) -> None:
    harness.overrides = {"model": {"contextWindow": 4000}}
    harness.conversation = prefilled(harness.root, 4000, turns=3, size=2000)
    harness.server.script(text_reply("- the user looked at three files"), text_reply("done"))

    result = await harness.run("now fix f1")

    assert result.stop_reason == "end_turn"
    summary, real = harness.server.chat_requests
    assert [m["role"] for m in summary.body["messages"]] == ["system", "user"]
    assert summary.body["messages"][0]["content"] == SUMMARY_SYSTEM
    assert "tools" not in summary.body and "reading f0" in summary.body["messages"][1]["content"]
    sent = real.body["messages"]
    assert roles(sent)[:2] == ["system", "user"] and "tools" in real.body
    assert sent[1]["content"].startswith(SUMMARY_OPEN)
    assert "- the user looked at three files" in sent[1]["content"]
    assert sent[1]["content"].endswith("now fix f1")
    compacted = [e for e in harness.events if isinstance(e, Compacted)]
    assert len(compacted) == 1
    assert compacted[0].method == "summarize" and compacted[0].reason == "threshold"
    assert compacted[0].tokens_before > compacted[0].tokens_after
    assert compacted[0].tokens_before > 0.8 * 4000


async def test_threshold_compaction_snips_first(harness: Harness) -> None:
    """When snipping old outputs is enough, no summary request is made."""
    harness.overrides = {"model": {"contextWindow": 8000}}
    harness.conversation = prefilled(harness.root, 8000, turns=6, size=3000)
    harness.server.script(text_reply("done"))
    result = await harness.run("next")
    assert result.stop_reason == "end_turn" and len(harness.server.chat_requests) == 1
    (compacted,) = [e for e in harness.events if isinstance(e, Compacted)]
    assert compacted.method == "snip" and compacted.tokens_after < compacted.tokens_before
    tool_outputs = [m["content"] for m in sent_messages(harness.server) if m["role"] == "tool"]
    assert tool_outputs[0].startswith("[output removed")
    assert tool_outputs[-1].startswith("f5:zzz")  # the recent turns are kept whole


OVERFLOWS = {
    "llama.cpp 400": context_overflow_reply,
    "empty 200": lambda: FakeResponse(status=200, empty=True),
}


def answer_summaries_and_requests(request: RecordedRequest) -> FakeResponse:
    """Summary requests (no tools) get a summary; real requests get an answer."""
    if "tools" not in request.body:
        return text_reply("- summary of the reads")
    return text_reply("fixed")


@pytest.mark.parametrize("overflow", OVERFLOWS.values(), ids=OVERFLOWS.keys())
async def test_overflow_compacts_harder_and_retries_once(harness: Harness, overflow: Any) -> None:
    harness.conversation = prefilled(harness.root, 100_000, turns=4, size=8000)
    harness.server.script(overflow()).respond_with(answer_summaries_and_requests)

    result = await harness.run("fix it")

    assert result.stop_reason == "end_turn"
    requests = harness.server.chat_requests
    first, retry = requests[0], requests[-1]
    assert len(requests) <= 3  # the overflowed request, maybe a summary, one retry
    assert "tools" in first.body and "tools" in retry.body
    assert retry.body["messages"][-1]["content"].endswith("fix it")
    assert len(str(retry.body)) < len(str(first.body)) / 2
    compacted = [e for e in harness.events if isinstance(e, Compacted)]
    assert [e.reason for e in compacted] == ["overflow"]
    assert compacted[0].tokens_after < compacted[0].tokens_before
    # Without a size in the answer, the window is taken to be below what was sent.
    assert harness.conversation.window <= compacted[0].tokens_before


async def test_overflow_with_a_small_window_summarizes(harness: Harness) -> None:
    harness.conversation = prefilled(harness.root, 100_000, turns=4, size=8000, chatty=True)
    harness.server.script(context_overflow_reply(), text_reply("- summary"), text_reply("fixed"))

    result = await harness.run("fix it")

    assert result.stop_reason == "end_turn"
    _, summary, retry = harness.server.chat_requests
    assert "tools" not in summary.body
    assert summary.body["messages"][0]["content"] == SUMMARY_SYSTEM
    assert retry.body["messages"][1]["content"].startswith(SUMMARY_OPEN)
    assert "- summary" in retry.body["messages"][1]["content"]
    assert retry.body["messages"][-1]["content"].endswith("fix it")
    (compacted,) = [e for e in harness.events if isinstance(e, Compacted)]
    assert (compacted.method, compacted.reason) == ("summarize", "overflow")


async def test_overflow_learns_the_window_from_the_400_body(harness: Harness) -> None:
    harness.conversation = prefilled(harness.root, 100_000, turns=10, size=8000, chatty=True)
    harness.server.script(context_overflow_reply(), text_reply("- summary"), text_reply("ok"))
    await harness.run("go")
    assert harness.conversation.window == 4096  # the body's n_ctx
    usage = [e for e in harness.events if isinstance(e, UsageUpdated)]
    assert usage and usage[-1].context_window == 4096
    # The summary request itself must fit the learned window, not the old guess.
    summary = harness.server.chat_requests[1].body["messages"][1]["content"]
    assert "reading f9" in summary
    assert len(summary) < 4096 * 0.5 * BYTES_PER_TOKEN + 100


async def test_overflow_again_after_compaction_stops_with_advice(harness: Harness) -> None:
    harness.conversation = prefilled(harness.root, 100_000, turns=4, size=8000)
    harness.server.script(
        context_overflow_reply(), text_reply("- summary"), context_overflow_reply()
    )
    result = await harness.run("fix it")
    assert result.stop_reason == "context_overflow"
    assert len(harness.server.chat_requests) == 3
    assert result.error is not None
    assert "4096" in result.error and "/clear" in result.error
    assert "contextWindow" in result.error
    assert isinstance(harness.events[-1], RunFinished)
    assert transcript_errors(harness.history[1:]) == []


async def test_a_failed_summary_falls_back_and_the_retry_still_happens(harness: Harness) -> None:
    harness.overrides = {"model": {"maxAttempts": 1}}
    harness.conversation = prefilled(harness.root, 100_000, turns=4, size=8000)
    harness.server.script(context_overflow_reply(), context_overflow_reply(), text_reply("ok"))
    result = await harness.run("go")
    assert result.stop_reason == "end_turn"
    carried = harness.server.chat_requests[2].body["messages"][1]["content"]
    assert carried.startswith(SUMMARY_OPEN) and "earlier messages were removed" in carried
    assert "read_file" in carried  # the fallback still lists what was done
