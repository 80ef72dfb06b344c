"""`lsp-agent sessions show`: a stored transcript, readable in a terminal."""

from __future__ import annotations

import datetime
import json
import textwrap

from lsp_agent.model.wire import AssistantMessage, Message, ToolMessage, UserMessage
from lsp_agent.store import SessionInfo

OUTPUT_LINES = 12  # lines of each tool result shown


def print_transcript(info: SessionInfo, messages: list[Message]) -> None:
    created = datetime.datetime.fromtimestamp(info.created_at).strftime("%Y-%m-%d %H:%M")
    print(f"session {info.id} · {info.title or '(untitled)'}")
    print(f"workspace {info.workspace} · created {created} · {info.turns} turns\n")
    for message in messages:
        for line in render(message):
            print(line)


def render(message: Message) -> list[str]:
    if isinstance(message, UserMessage):
        return ["▶ user", _indent(message.content), ""]
    if isinstance(message, AssistantMessage):
        lines = ["◀ assistant"]
        if message.reasoning:
            lines.append(_indent("(thinking) " + message.reasoning))
        if message.content:
            lines.append(_indent(message.content))
        for call in message.tool_calls or []:
            lines.append(f"  → {call.function.name} {_args(call.function.arguments)}")
        return [*lines, ""]
    if isinstance(message, ToolMessage):
        body = message.content.splitlines()
        shown = body[:OUTPUT_LINES]
        if len(body) > OUTPUT_LINES:
            shown.append(f"… {len(body) - OUTPUT_LINES} more lines")
        return ["  ← result", _indent("\n".join(shown), "      "), ""]
    return []


def _indent(text: str, prefix: str = "  ") -> str:
    return textwrap.indent(text, prefix, lambda _: True)


def _args(raw: str) -> str:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    return json.dumps(value, ensure_ascii=False)
