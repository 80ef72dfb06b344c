"""Shell hooks: user commands run at points of a session, in the contract Claude Code's
hooks use, so hooks users already have work here.

A hook gets the event as JSON on stdin and answers with its exit code and, optionally,
JSON on stdout:
- exit 0: go on; stdout JSON may say `{"decision": "block", "reason": …}`,
  `{"continue": false, "stopReason": …}`, or under `hookSpecificOutput`
  `permissionDecision` (PreToolUse: allow | deny | ask) and `additionalContext`;
- exit 2: block, with stderr as the reason;
- anything else, a timeout or a crash: the hook failed. It is reported and never counts
  as an allow: a failed PreToolUse hook denies the call (fail closed).

Hooks run in the same OS sandbox as the bash tool, under the session's permission mode.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lsp_agent import sandbox
from lsp_agent.config import HookMatcher, PermissionMode, Settings
from lsp_agent.secrets import redactor

log = logging.getLogger(__name__)

HookEvent = Literal["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SessionStart"]
Decision = Literal["allow", "deny", "ask"]
FIELDS: dict[HookEvent, str] = {
    "PreToolUse": "pre_tool_use",
    "PostToolUse": "post_tool_use",
    "UserPromptSubmit": "user_prompt_submit",
    "Stop": "stop",
    "SessionStart": "session_start",
}
OUTPUT_LIMIT = 64_000  # characters of a hook's stdout or stderr kept
PAYLOAD_TEXT_LIMIT = 100_000  # a tool result longer than this reaches hooks cut


@dataclass
class HookOutcome:
    """What the hooks of one event said, together."""

    block: bool = False
    reason: str = ""
    decision: Decision | None = None  # PreToolUse only
    context: list[str] = field(default_factory=list)  # additionalContext, in order
    stop: bool = False  # `"continue": false`: end the run
    failures: list[str] = field(default_factory=list)  # reported to the user

    def merge(self, other: HookOutcome) -> None:
        self.block = self.block or other.block
        self.reason = "; ".join(r for r in (self.reason, other.reason) if r)
        # The strictest decision wins: deny over ask over allow.
        order: list[Decision | None] = [None, "allow", "ask", "deny"]
        if order.index(other.decision) > order.index(self.decision):
            self.decision = other.decision
        self.context += other.context
        self.stop = self.stop or other.stop
        self.failures += other.failures


class Hooks:
    """The hooks of one session: which apply, and running them."""

    def __init__(
        self,
        settings: Settings,
        roots: list[Path],
        session_id: str,
        mode: PermissionMode,
        report: Callable[[str], None] = lambda message: log.warning("%s", message),
    ) -> None:
        self.settings = settings
        self.roots = roots
        self.session_id = session_id
        self.mode = mode
        self.report = report
        self._redact = redactor(_secrets(settings))

    def matching(self, event: HookEvent, tool: str | None = None) -> list[HookMatcher]:
        groups: list[HookMatcher] = getattr(self.settings.hooks, FIELDS[event])
        return [g for g in groups if tool is None or _matches(g.matcher, tool)]

    async def run(
        self, event: HookEvent, payload: Mapping[str, Any], tool: str | None = None
    ) -> HookOutcome:
        """Run every matching hook of `event` in order; their answers combined."""
        outcome = HookOutcome()
        groups = self.matching(event, tool)
        if not groups:
            return outcome
        body = {
            "session_id": self.session_id,
            "cwd": str(self.roots[0]),
            "hook_event_name": event,
            "permission_mode": self.mode,
            **payload,
        }
        data = json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")
        for group in groups:
            for hook in group.hooks:
                one = await self._run_one(event, hook.command, hook.timeout, data)
                for failure in one.failures:
                    self.report(failure)
                outcome.merge(one)
        return outcome

    async def _run_one(
        self, event: HookEvent, command: str, timeout_s: float, data: bytes
    ) -> HookOutcome:
        from lsp_agent.tools.shell import child_env, run_command  # shell imports tools

        name = f"{event} hook `{_short(command)}`"
        state = await sandbox.status_async(self.settings.shell.sandbox)
        if state.backend is None and not state.off:
            return _failed(event, f"{name} not run: no sandbox is available ({state.detail})")
        shell = self.settings.shell
        env = child_env(os.environ, self.settings.model.api_key_env)
        env["LSP_AGENT_PROJECT_DIR"] = env["CLAUDE_PROJECT_DIR"] = str(self.roots[0])

        def build() -> sandbox.Launch:  # lists directories: off the loop
            policy = sandbox.policy_for(
                self.mode,
                self.roots,
                self.roots[0],
                network=shell.network,
                extra_writable=[Path(os.path.expanduser(p)) for p in shell.writable_paths],
                max_processes=shell.max_processes,
                max_file_bytes=shell.max_file_mb * 1024 * 1024,
            )
            return sandbox.launch(state, command, policy, env)

        launch = await asyncio.to_thread(build)
        streams: dict[str, list[str]] = {"stdout": [], "stderr": []}

        def collect(text: str, stream: str) -> None:
            streams[stream].append(text)

        try:
            done = await run_command(
                launch,
                cwd=self.roots[0],
                timeout_s=timeout_s,
                limit=OUTPUT_LIMIT,
                on_output=collect,
                stdin=data,
            )
        except OSError as e:
            return _failed(event, f"{name} could not start: {e}")
        out = self._redact.text("".join(streams["stdout"]))[:OUTPUT_LIMIT]
        err = self._redact.text("".join(streams["stderr"]))[:OUTPUT_LIMIT].strip()
        if done.timed_out:
            return _failed(event, f"{name} timed out after {timeout_s:g} s")
        if done.returncode == 2:
            return HookOutcome(block=True, reason=err or f"blocked by the {name}")
        if done.returncode != 0:
            detail = f": {err[-500:]}" if err else ""
            return _failed(event, f"{name} failed with exit code {done.returncode}{detail}")
        return _parse(event, name, out)


def _parse(event: HookEvent, name: str, out: str) -> HookOutcome:
    """Exit 0: plain stdout is context (UserPromptSubmit, SessionStart); JSON is an answer."""
    text = out.strip()
    if not text.startswith("{"):
        plain = event in ("UserPromptSubmit", "SessionStart") and bool(text)
        return HookOutcome(context=[text] if plain else [])
    try:
        answer = json.loads(text)
    except ValueError:
        return _failed(event, f"{name} printed JSON that does not parse: {text[:200]!r}")
    if not isinstance(answer, dict):
        return _failed(event, f"{name} printed JSON that is not an object")
    outcome = HookOutcome()
    if answer.get("decision") == "block":
        outcome.block, outcome.reason = True, str(answer.get("reason") or f"blocked by {name}")
    if answer.get("continue") is False:
        outcome.stop = True
        outcome.reason = str(answer.get("stopReason") or outcome.reason or f"stopped by {name}")
    specific = answer.get("hookSpecificOutput")
    if isinstance(specific, dict):
        decision = specific.get("permissionDecision")
        if event == "PreToolUse" and decision in ("allow", "deny", "ask"):
            outcome.decision = decision
            reason = specific.get("permissionDecisionReason")
            if reason:
                outcome.reason = str(reason)
        if isinstance(specific.get("additionalContext"), str):
            outcome.context.append(specific["additionalContext"])
    return outcome


def _failed(event: HookEvent, message: str) -> HookOutcome:
    # A failed PreToolUse hook never lets the call through on its own: deny it.
    return HookOutcome(
        decision="deny" if event == "PreToolUse" else None,
        reason=message if event == "PreToolUse" else "",
        failures=[message],
    )


def _matches(matcher: str, tool: str) -> bool:
    if matcher in ("", "*"):
        return True
    try:
        return re.fullmatch(matcher, tool) is not None
    except re.error:
        return matcher == tool


def _short(command: str) -> str:
    line = command.strip().splitlines()[0] if command.strip() else command
    return line if len(line) <= 60 else line[:57] + "…"


def _secrets(settings: Settings) -> list[str]:
    from lsp_agent.secrets import known_secrets

    return known_secrets(settings.api_key())


def clip(text: str) -> str:
    """A tool result as hooks see it: bounded."""
    if len(text) <= PAYLOAD_TEXT_LIMIT:
        return text
    return text[:PAYLOAD_TEXT_LIMIT] + f"\n[... {len(text) - PAYLOAD_TEXT_LIMIT} more characters]"
