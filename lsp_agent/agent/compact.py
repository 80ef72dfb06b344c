"""Compaction: snip old tool outputs, then summarize older turns.

Invariants, whatever happens: the system prompt and the latest user request survive, and
every tool result still follows the assistant message that made its call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lsp_agent.agent.tokens import TokenCounter
from lsp_agent.model.wire import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolMessage,
    UserMessage,
)

SNIPPED = "[output removed to save context ({chars} characters); run the tool again if needed]"
SUMMARY_OPEN = "<compacted-context>"
SUMMARY_INTRO = "Earlier conversation and progress on this request, summarized:"
SUMMARY_SYSTEM = (
    "You compact the history of a coding session between a user and a coding agent. "
    "Write a concise summary that lets the agent continue the work: the user's goals and "
    "constraints, decisions made, files read or changed (with paths) and what changed, "
    "commands run and their outcomes, errors still open, and the next steps. "
    "Use short bullet points. Do not invent anything."
)
RENDER_LIMIT = 2_000  # characters kept of one message when rendering for the summarizer
# What the loop says when an answer was cut off by the output limit: not a user request.
CONTINUE_PROMPT = (
    "Your previous reply was cut off by the output token limit. "
    "Continue exactly where it stopped, without repeating anything."
)

Summarizer = Callable[[list[Message]], Awaitable[str]]


def latest_request(history: list[Message]) -> int:
    """Index of the latest user request: it is never dropped or rewritten away.

    The loop's own "continue" prompts are not requests: they stay in the tail, if at all.
    """
    for i in range(len(history) - 1, -1, -1):
        message = history[i]
        if isinstance(message, UserMessage) and message.content != CONTINUE_PROMPT:
            return i
    return -1


def snip_tool_outputs(
    history: list[Message],
    counter: TokenCounter,
    specs: list[dict[str, object]],
    goal: int,
    keep_turns: int = 2,
) -> int:
    """Replace old tool outputs with a note, oldest first, until the prompt fits `goal`.

    The results of the last `keep_turns` assistant turns stay whole. Returns how many
    outputs were snipped.
    """
    assistants = [i for i, m in enumerate(history) if isinstance(m, AssistantMessage)]
    protect_from = assistants[-keep_turns] if len(assistants) >= keep_turns else 0
    snipped = 0
    for i in range(protect_from):
        if counter.prompt(history, specs) <= goal:
            break
        message = history[i]
        if isinstance(message, ToolMessage) and not message.content.startswith("[output removed"):
            note = SNIPPED.format(chars=len(message.content))
            if len(note) < len(message.content):
                history[i] = ToolMessage(tool_call_id=message.tool_call_id, content=note)
                snipped += 1
    return snipped


def summary_cut(history: list[Message], counter: TokenCounter, tail_budget: int) -> int:
    """Where the verbatim tail starts: an assistant message after the latest request, as
    early as the tail budget allows; len(history) when nothing can be kept."""
    request = latest_request(history)
    cut, tail = len(history), 0
    for i in range(len(history) - 1, request, -1):
        tail += counter.message(history[i])
        if tail > tail_budget:
            break
        if isinstance(history[i], AssistantMessage):
            cut = i
    return cut


def rebuild(history: list[Message], cut: int, summary: str) -> list[Message]:
    """system + the latest request carrying the summary + the verbatim tail from `cut`."""
    request = latest_request(history)
    head: list[Message] = [history[0]] if isinstance(history[0], SystemMessage) else []
    prompt = (history[request].content or "") if request >= 0 else ""
    if prompt.startswith(SUMMARY_OPEN):  # already carries an older summary: replace it
        prompt = prompt.split("</compacted-context>\n\n", 1)[-1]
    carried = (
        f"{SUMMARY_OPEN}\n{SUMMARY_INTRO}\n{summary.strip()}\n</compacted-context>\n\n{prompt}"
    )
    return [*head, UserMessage(content=carried), *history[max(cut, request + 1) :]]


def to_summarize(history: list[Message], cut: int) -> list[Message]:
    """The messages a summary replaces: all but the system prompt and the verbatim tail."""
    start = 1 if history and isinstance(history[0], SystemMessage) else 0
    return history[start:cut]


def render(messages: list[Message], limit_chars: int) -> str:
    """A plain transcript for the summarizer, newest parts kept when too long."""
    lines: list[str] = []
    for m in messages:
        if isinstance(m, AssistantMessage):
            if m.content:
                lines.append(f"ASSISTANT: {_clip(m.content)}")
            for call in m.tool_calls or []:
                lines.append(f"TOOL CALL {call.function.name} {_clip(call.function.arguments)}")
        elif isinstance(m, ToolMessage):
            lines.append(f"TOOL RESULT: {_clip(m.content)}")
        else:
            lines.append(f"{m.role.upper()}: {_clip(m.content)}")
    text = "\n".join(lines)
    return text if len(text) <= limit_chars else "…" + text[-limit_chars:]


def summary_request(messages: list[Message], limit_chars: int) -> list[Message]:
    return [
        SystemMessage(content=SUMMARY_SYSTEM),
        UserMessage(content="Summarize this session:\n\n" + render(messages, limit_chars)),
    ]


def fallback_summary(messages: list[Message], error: str) -> str:
    """When the model cannot summarize, at least say what was dropped."""
    calls = [
        f"{c.function.name} {_clip(c.function.arguments, 120)}"
        for m in messages
        if isinstance(m, AssistantMessage)
        for c in m.tool_calls or []
    ]
    text = f"- {len(messages)} earlier messages were removed (no summary: {error})."
    if calls:
        text += "\n- Tool calls made earlier: " + "; ".join(calls[-20:])
    return text


def _clip(text: str, limit: int = RENDER_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit // 2] + " … " + text[-limit // 2 :]
