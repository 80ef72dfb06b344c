"""The agent loop: query the model, run the tools, emit events, decide whether to stop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lsp_agent.agent.budget import Budget
from lsp_agent.agent.compact import CONTINUE_PROMPT, Summarizer, summary_request
from lsp_agent.agent.conversation import Conversation
from lsp_agent.agent.events import (
    EventSink,
    Retrying,
    RunFinished,
    RunStarted,
    StopReason,
    TextDelta,
    ThoughtDelta,
    UsageInfo,
    UsageUpdated,
)
from lsp_agent.agent.subagent import attach
from lsp_agent.agent.tokens import BYTES_PER_TOKEN
from lsp_agent.agent.tool_runner import ToolRunner
from lsp_agent.config import Settings
from lsp_agent.hooks import Hooks
from lsp_agent.model.client import ModelClient
from lsp_agent.model.errors import ContextTooLong, ModelError
from lsp_agent.model.wire import (
    AssistantTurn,
    Message,
    ReasoningChunk,
    RetryNotice,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    Usage,
    UserMessage,
)

MAX_CONTINUATIONS = 3  # on finish_reason=length
MAX_EMPTY_RETRIES = 1
MAX_STOP_BLOCKS = 3  # a Stop hook that keeps saying "not done" cannot loop forever
OVERFLOW_HELP = (
    "The conversation does not fit the model's context window ({window} tokens), even after "
    "compacting it. Start a fresh conversation (/clear or a new session), ask for a smaller "
    "step, or give the model a larger context (the server's context size, and the "
    "model.contextWindow setting)."
)


@dataclass
class Stop:
    reason: StopReason
    limit: str | None = None
    error: str | None = None


async def run_agent(
    prompt: str,
    conversation: Conversation,
    *,
    model: ModelClient,
    runner: ToolRunner,
    sink: EventSink,
    settings: Settings,
    instructions: list[str] | None = None,
    hooks: Hooks | None = None,
    notes: list[str] | None = None,
) -> RunFinished:
    """Run one prompt to a stop; the conversation grows (and is persisted) as it goes.

    Cancelling the task running this is a normal stop: the model stream is closed, tool
    processes are killed, the transcript is left valid, and `cancelled` is returned.
    """
    started = time.monotonic()
    budget = Budget(settings.limits, settings.model.pricing.get(settings.model.name))
    # The `task` tool's sub-agents share this run's budget, sink and cancellation.
    delegate, agent_notes = attach(
        runner, model=model, budget=budget, settings=settings, sink=sink, window=conversation.window
    )
    sink.emit(
        RunStarted(
            model=settings.model.name,
            workspace=str(runner.workspace.roots[0]),
            prompt=prompt,
            instructions=instructions or [],
            notes=[*(notes or []), *agent_notes],
        )
    )
    pending: list[ToolCall] = []  # calls whose results are not in the conversation yet
    try:
        async with asyncio.timeout(settings.limits.timeout_s):
            refused, text = await _submit(hooks, prompt, fresh=len(conversation.messages) <= 1)
            if refused is not None:  # a hook refused the prompt: it never reaches the model
                sink.emit(TextDelta(text=refused))
                stop = Stop("end_turn")
            else:
                await conversation.add(UserMessage(content=text))
                stop = await _loop(
                    conversation, pending, model, runner, sink, budget, settings, hooks
                )
    except asyncio.CancelledError:
        _uncancel()
        stop = Stop("cancelled")
    except TimeoutError:
        stop = Stop("budget", limit="timeoutS")
    except ContextTooLong:
        stop = Stop("context_overflow", error=OVERFLOW_HELP.format(window=conversation.window))
    except ModelError as e:
        stop = Stop("model_error", error=str(e))
    if pending:  # interrupted mid-tools: every call keeps a result
        await conversation.add(*runner.settle(pending))
    if delegate is not None:
        await delegate.aclose()
    finished = RunFinished(
        stop_reason=stop.reason,
        limit=stop.limit,
        error=stop.error,
        usage=_usage_info(budget.usage),
        cost_usd=budget.cost,
        turns=budget.turns,
        tool_calls=budget.tool_calls,
        duration_s=round(time.monotonic() - started, 3),
        edited_paths=[str(p) for p in runner.edited],
    )
    sink.emit(finished)
    return finished


async def _loop(
    conversation: Conversation,
    pending: list[ToolCall],
    model: ModelClient,
    runner: ToolRunner,
    sink: EventSink,
    budget: Budget,
    settings: Settings,
    hooks: Hooks | None = None,
) -> Stop:
    continuations = empty_retries = stop_blocks = 0
    overflowed = False
    tools = runner.tools.specs()
    summarize = summarizer(model, budget, conversation.window)
    per_call = settings.model.max_output_tokens

    def over(tokens: int) -> str | None:
        # A server may ignore max_tokens, or never end: the limits hold during the stream.
        if per_call is not None and tokens >= per_call:
            return "length"
        return budget.exhausted(streaming_tokens=tokens)

    while True:
        if settings.limits.max_turns is not None and budget.turns >= settings.limits.max_turns:
            return Stop("max_turns", limit="maxTurns")
        if limit := budget.exhausted():
            return Stop("budget", limit=limit)
        if compacted := await conversation.fit(tools, summarize):
            sink.emit(compacted)

        try:
            turn, cut = await _stream_turn(model, conversation.messages, tools, sink, over)
        except ContextTooLong as e:
            if overflowed:
                raise
            overflowed = True  # compact harder, then retry once
            if e.prompt_tokens:  # the server counted the prompt: calibrate against it
                conversation.counter.calibrate(conversation.messages, tools, e.prompt_tokens)
            # The window is at most what the server said, else smaller than what was sent.
            conversation.learn_window(e.n_ctx or conversation.estimate(tools))
            summarize = summarizer(model, budget, conversation.window)  # sized to the window
            compacted = await conversation.fit(tools, summarize, reason="overflow", force=True)
            if compacted:
                sink.emit(compacted)
            continue
        overflowed = False
        budget.model_calls += 1
        budget.add_usage(turn.usage or Usage())
        if turn.usage and turn.usage.prompt_tokens:
            conversation.counter.calibrate(conversation.messages, tools, turn.usage.prompt_tokens)
        estimate = conversation.estimate(tools)  # for servers that report no usage
        sink.emit(_usage_event(turn.usage, budget, conversation.window, estimate))
        if cut is not None and cut != "length":  # a run limit stopped the stream
            if turn.content.strip():  # keep what was received
                await conversation.add(turn.to_message())
                budget.turns += 1
            return Stop("budget", limit=cut)

        if not (turn.content.strip() or turn.tool_calls) and empty_retries < MAX_EMPTY_RETRIES:
            empty_retries += 1
            continue
        _unique_ids(turn.tool_calls, conversation.tool_ids)
        await conversation.add(turn.to_message())
        budget.turns += 1

        if turn.tool_calls:
            pending[:] = turn.tool_calls
            allowed = budget.tool_calls_left()
            results = await runner.run_all(turn.tool_calls, allowed)
            pending.clear()
            await conversation.add(*results)
            ran = len(turn.tool_calls) if allowed is None else min(allowed, len(turn.tool_calls))
            budget.tool_calls += ran
            continue
        if turn.finish_reason == "length" and continuations < MAX_CONTINUATIONS:
            continuations += 1
            await conversation.add(UserMessage(content=CONTINUE_PROMPT))
            continue
        if hooks is not None and stop_blocks < MAX_STOP_BLOCKS:
            said = await hooks.run("Stop", {"stop_hook_active": stop_blocks > 0})
            if said.block and not said.stop:  # "not done yet": the reason is the next prompt
                stop_blocks += 1
                await conversation.add(UserMessage(content=f"[Stop hook] {said.reason}"))
                continue
        return Stop("end_turn")


async def _submit(hooks: Hooks | None, prompt: str, *, fresh: bool) -> tuple[str | None, str]:
    """UserPromptSubmit (and SessionStart on a session's first prompt): the refusal, if a
    hook refused, and the prompt with the context hooks added."""
    if hooks is None:
        return None, prompt
    context: list[str] = []
    if fresh:
        context += (await hooks.run("SessionStart", {"source": "startup"})).context
    said = await hooks.run("UserPromptSubmit", {"prompt": prompt})
    if said.block or said.stop:
        return f"A UserPromptSubmit hook refused the prompt: {said.reason}", prompt
    context += said.context
    return None, "\n\n".join([prompt, *context])


def summarizer(model: ModelClient, budget: Budget, window: int) -> Summarizer:
    """Summaries are model calls too: they count against the run's budget."""

    async def summarize(messages: list[Message]) -> str:
        request = summary_request(messages, limit_chars=int(window * 0.5 * BYTES_PER_TOKEN))
        async with contextlib.aclosing(model.turn(request, [])) as events:
            async for event in events:
                if isinstance(event, AssistantTurn):
                    budget.model_calls += 1
                    budget.add_usage(event.usage or Usage())
                    if event.content.strip():
                        return event.content
        raise ModelError("the model returned an empty summary")

    return summarize


async def _stream_turn(
    model: ModelClient,
    history: list[Message],
    tools: list[dict[str, Any]],
    sink: EventSink,
    over: Callable[[int], str | None],
) -> tuple[AssistantTurn, str | None]:
    """The turn, and None; or, when `over(estimated output tokens)` names a limit mid-stream,
    the text received so far (tool calls cut short are dropped) and that limit."""
    text: list[str] = []
    thought: list[str] = []
    chars = 0
    async with contextlib.aclosing(model.turn(history, tools)) as events:  # closes the stream
        async for event in events:
            if isinstance(event, TextChunk):
                sink.emit(TextDelta(text=event.text))
                text.append(event.text)
                chars += len(event.text)
            elif isinstance(event, ReasoningChunk):
                sink.emit(ThoughtDelta(text=event.text))
                thought.append(event.text)
                chars += len(event.text)
            elif isinstance(event, ToolCallChunk):
                chars += len(event.arguments)
            elif isinstance(event, RetryNotice):
                text, thought, chars = [], [], 0  # that attempt is void
                sink.emit(
                    Retrying(
                        attempt=event.attempt,
                        max_attempts=event.max_attempts,
                        delay_s=event.delay_s,
                        error=event.error,
                    )
                )
            elif isinstance(event, AssistantTurn):
                return event, None
            tokens = int(chars / BYTES_PER_TOKEN)
            if tokens and (limit := over(tokens)):
                cut = AssistantTurn(
                    content="".join(text),
                    reasoning="".join(thought),
                    finish_reason="length",
                    usage=Usage(completion_tokens=tokens),
                )
                return cut, limit
    raise ModelError("the model stream ended without a result")


def _usage_event(usage: Usage | None, budget: Budget, window: int, estimate: int) -> UsageUpdated:
    last = usage or Usage()
    used = last.prompt_tokens + last.completion_tokens if last.prompt_tokens else estimate
    return UsageUpdated(
        usage=_usage_info(budget.usage),
        context_used=used,
        context_window=window,
        cost_usd=budget.cost,
    )


def _usage_info(usage: Usage) -> UsageInfo:
    return UsageInfo(**usage.model_dump(), total_tokens=usage.total_tokens)


def _unique_ids(calls: list[ToolCall], seen: set[str]) -> None:
    """Some servers omit ids, or send `call_0` every turn; results (and editors showing
    tool calls) match by id, so ids are made unique within the session."""
    for call in calls:
        if call.id and call.id not in seen:
            seen.add(call.id)
            continue
        base = call.id or "call"
        # Suffixes start at the count of ids so far, not at 1: a server that sends `call_0`
        # every turn would otherwise make each turn probe every suffix used before it.
        n = len(seen)
        while f"{base}_{n}" in seen:
            n += 1
        call.id = f"{base}_{n}"
        seen.add(call.id)


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
