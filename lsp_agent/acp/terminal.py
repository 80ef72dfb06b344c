"""Shell output in ACP tool calls.

Commands always run in our own sandbox, never in a client terminal (`terminal/create`),
even when the client offers `terminal/*`: the sandbox that enforces the permission mode
(Landlock applied between fork and exec, inherited descriptors, the process-group
watchdog and limits) only exists in a process we start ourselves, and a client terminal
may not even run on this machine. No permission mode runs unsandboxed, so no mode
qualifies for a client terminal.

The output is streamed in the tool call instead, one of two ways:
- A client that sets `clientCapabilities._meta.terminal_output` (Zed; the convention of
  codex-acp and claude-agent-acp) renders a terminal the agent feeds: once the command
  starts, the call's content is `{"type": "terminal", "terminalId": <call id>}` with
  `_meta.terminal_info`; each piece of output is a `tool_call_update` with
  `_meta.terminal_output.data` (appended by the client); the last update carries
  `_meta.terminal_exit` (exit code, signal).
- Any other client gets text content. ACP's `tool_call_update.content` replaces the
  call's content, so each update carries the output so far (its last OUTPUT_SHOWN
  characters), not only the new piece, and the final one adds the exit status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsp_agent.agent.events import (
    Event,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
    ToolOutputDelta,
)
from lsp_agent.tools.shell import exit_status

META_CAPABILITY = "terminal_output"  # in clientCapabilities._meta
OUTPUT_SHOWN = 16_000  # characters of a command's output kept in text content

Update = dict[str, Any]


def offers_terminal_output(client_meta: dict[str, Any] | None) -> bool:
    return bool(client_meta) and client_meta.get(META_CAPABILITY) is True  # type: ignore[union-attr]


class ShellOutput:
    """Rewrites the updates of one session's `execute` tool calls (see the module notes);
    other calls' updates pass through unchanged."""

    def __init__(self, terminal: bool, cwd: Path) -> None:
        self.terminal, self.cwd = terminal, cwd
        self._calls: dict[str, str | None] = {}  # execute call id -> output so far (text);
        # None in terminal mode until the terminal is embedded

    def rewrite(self, event: Event, updates: list[Update]) -> list[Update]:
        if isinstance(event, ToolCallStarted):
            if event.kind == "execute":
                self._calls[event.tool_call_id] = None if self.terminal else ""
            return updates
        call_id = getattr(event, "tool_call_id", None)
        if call_id is None or call_id not in self._calls:
            return updates
        if isinstance(event, ToolCallProgress):  # the command starts
            return [*updates, *self._embed(call_id)] if self.terminal else updates
        if isinstance(event, ToolOutputDelta):
            return self._output(call_id, event.text, updates)
        if isinstance(event, ToolCallFinished):
            return self._finished(event, updates)
        return updates

    def _embed(self, call_id: str) -> list[Update]:
        if self._calls.get(call_id) is not None:
            return []
        self._calls[call_id] = ""
        return [
            {
                "sessionUpdate": "tool_call_update",
                "toolCallId": call_id,
                "content": [_terminal(call_id)],
                "_meta": {"terminal_info": {"terminal_id": call_id, "cwd": str(self.cwd)}},
            }
        ]

    def _output(self, call_id: str, text: str, updates: list[Update]) -> list[Update]:
        if self.terminal:
            data = {"terminal_id": call_id, "data": text}
            return [
                *self._embed(call_id),  # a replayed session has no ToolCallProgress
                {
                    "sessionUpdate": "tool_call_update",
                    "toolCallId": call_id,
                    "_meta": {"terminal_output": data},
                },
            ]
        shown = (self._calls[call_id] or "") + text
        self._calls[call_id] = shown
        for update in updates:
            update["content"] = [_text(_tail(shown))]
        return updates

    def _finished(self, event: ToolCallFinished, updates: list[Update]) -> list[Update]:
        shown = self._calls.pop(event.tool_call_id)
        if shown is None:  # never ran (denied, invalid): the plain result
            return updates
        code, signal = exit_status(event.output)
        for update in updates:
            if self.terminal:
                update["content"] = [_terminal(event.tool_call_id)]
                exit_ = {"terminal_id": event.tool_call_id, "exit_code": code, "signal": signal}
                update["_meta"] = {"terminal_exit": exit_}
            elif shown:  # streamed: the output so far, then the status
                status = event.output.rstrip().rpartition("\n")[2]
                update["content"] = [_text(_tail(shown).rstrip("\n") + "\n" + status)]
        return updates


def _tail(text: str) -> str:
    if len(text) <= OUTPUT_SHOWN:
        return text
    return f"… ({len(text) - OUTPUT_SHOWN} earlier characters)\n" + text[-OUTPUT_SHOWN:]


def _terminal(call_id: str) -> Update:
    return {"type": "terminal", "terminalId": call_id}


def _text(text: str) -> Update:
    return {"type": "content", "content": {"type": "text", "text": text}}
