"""What a permission prompt shows: the whole command (every line, nothing cut without
saying so), why it needs approval, and the rule "allow always" would add."""

from __future__ import annotations

from collections.abc import Sequence

from lsp_agent.agent.events import ToolKind
from lsp_agent.permissions.rules import Rule

SHOW_LIMIT = 2000  # characters of a command shown inline; longer ones show head and tail


def shown_command(command: str, limit: int = SHOW_LIMIT) -> str:
    """The command as the prompt shows it. Over `limit`, the head and the tail with a note
    of how much is between them (the prompt then offers to show it all)."""
    if len(command) <= limit:
        return command
    half = limit // 2
    hidden = len(command) - 2 * half
    return f"{command[:half]}\n[… {hidden} more characters not shown …]\n{command[-half:]}"


def always_text(rules: Sequence[Rule], kind: ToolKind) -> str | None:
    """How the prompt names what "allow always" would allow for the rest of the session."""
    if kind == "edit":
        return "edits in the workspace" if rules else None  # protected ones are still asked
    if not rules:
        return None
    return ", ".join(rule.text for rule in rules)


def prompt_text(
    title: str,
    command: str | None,
    reason: str | None,
    asked_parts: Sequence[str],
    *,
    limit: int = SHOW_LIMIT,
) -> str:
    """One text for the prompts that have only a message (CLI, showMessageRequest)."""
    lines = [f"lsp-agent wants to: {title}" if command is None else "lsp-agent wants to run:"]
    if command is not None:
        lines.append(shown_command(command, limit))
    if reason:
        lines.append(f"Needs approval: {reason}.")
    parts = [p for p in asked_parts if p and p != (command or "").strip()]
    if parts:
        lines.append("Asked for: " + "; ".join(f"`{p}`" for p in parts))
    return "\n".join(lines)
