"""The policy: mode, rules and session memory decide allow, deny or ask; the gate asks.

Deny rules win over everything. Then an allow rule (or one remembered this session) allows
what it names, even in read-only mode. Otherwise the mode decides:

| kind              | read-only         | ask   | accept-edits          | auto               |
| ----------------- | ----------------- | ----- | --------------------- | ------------------ |
| think/read/search | allow             | allow | allow                 | allow              |
| edit              | deny              | ask   | allow in workspace    | allow in workspace |
| execute           | read-only or deny | ask   | read-only, else ask   | ask if destructive |

Edits of protected paths (git dirs, settings, editor folders, instruction files: see
sandbox.protected) are asked in every mode: they would let the model escalate itself.
A command line is judged part by part (see shell_classifier): each part must be allowed by
the mode or covered by an allow rule, and the line gets the worst answer of its parts.
The OS sandbox enforces the mode for every command; without one the shell fails closed:
read-only refuses every command and the other modes ask for each.
Anything but an explicit allow from the gate is a deny (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from lsp_agent import sandbox
from lsp_agent.config import PermissionSettings, ShellSettings
from lsp_agent.permissions import read_deny
from lsp_agent.permissions.approval import always_text
from lsp_agent.permissions.interface import Outcome, PermissionGate, PermissionRequest, Verdict
from lsp_agent.permissions.rules import (
    PathInfo,
    Rule,
    escape_command,
    parse_rule,
    parse_rules,
    path_info,
    session_rule,
)
from lsp_agent.permissions.shell_classifier import Analysis, Part, analyze
from lsp_agent.sandbox import SandboxStatus

log = logging.getLogger(__name__)

_EMPTY = Part("", "", (), "read_only")  # an empty line runs nothing, but ask mode still asks
_MAX_SUFFIXES = 100  # per piece of an unparsed line, to bound the work on huge input
_DONT_RETRY = "Do not retry it; ask the user or choose another approach."


@dataclass(frozen=True)
class _Evaluation:
    outcome: Outcome
    reason: str
    asked: tuple[Part, ...] = ()  # the parts of a command line that need the user's approval
    command: str | None = None
    parsed: bool = True
    remember: tuple[Rule, ...] = ()  # what "allow always" would add


class Permissions:
    """One session's permissions: the settings, the gate, and what the user allowed always."""

    def __init__(
        self,
        settings: PermissionSettings,
        gate: PermissionGate | None = None,
        workspace_root: Path | None = None,
        shell: ShellSettings | None = None,
    ) -> None:
        self.settings = settings
        self.mode = settings.mode
        self.shell = shell or ShellSettings()
        self._allow = parse_rules(settings.allow, "allow")  # ValueError names the bad rule
        self._deny = parse_rules(settings.deny, "deny")
        self._read_deny = read_deny.read_rules(self._deny)
        self.gate = gate
        self._root = workspace_root
        self._session: list[Rule] = []
        self._all_edits = False

    # --- what the tools and the sandbox need to know ---------------------------------

    def read_denied(self, rel: str | None, absolute: str | None = None) -> bool:
        """Does a deny rule forbid reading this path? (grep and glob leave such files out)"""
        return bool(self._read_deny) and read_deny.denied(self._read_deny, rel, absolute)

    async def hidden_paths(self, roots: tuple[Path, ...]) -> list[Path]:
        """The existing paths the sandbox must mask from shell commands."""
        if not self._read_deny:
            return []
        return await asyncio.to_thread(read_deny.matching_paths, self._read_deny, roots)

    async def sandbox(self) -> SandboxStatus:
        return await sandbox.status_async(self.shell.sandbox)

    def remembered_rules(self) -> list[str]:
        """What "allow always" added this session, as rules (for display)."""
        return (["edit(**)"] if self._all_edits else []) + [r.text for r in self._session]

    def decide(self, request: PermissionRequest) -> Outcome:
        return self._evaluate(request, sandbox.status(self.shell.sandbox)).outcome

    async def check(self, request: PermissionRequest, *, reviewed: bool = False) -> Verdict:
        """`reviewed`: the user reviews this edit before it is written, so that review is
        the question; a denial still denies (without a review)."""
        state = await self.sandbox() if request.kind == "execute" else None
        ev = self._evaluate(request, state)
        if ev.outcome != "ask":
            return Verdict(ev.outcome == "allow", ev.reason)
        if reviewed and request.kind == "edit":
            return Verdict(True, f"{ev.reason}: the user reviews the edit before it is written")
        return await self._ask(request, ev)

    async def ask(self, request: PermissionRequest, why: str) -> Verdict:
        """Ask the user although the policy would allow (a hook wants it asked); the answer
        is not remembered, and a deny rule still wins."""
        command = request.subject if request.kind == "execute" else None
        ev = self._evaluate(request, None)
        if ev.outcome == "deny":
            return Verdict(False, ev.reason)
        return await self._ask(request, _Evaluation("ask", why, (), command))

    async def _ask(self, request: PermissionRequest, ev: _Evaluation) -> Verdict:
        what = _action(request, ev.command)
        # The prompt shows the truth: the whole command, why it is asked, what "always" adds.
        request = request.model_copy(
            update={
                "reason": ev.reason,
                "asked_parts": [p.text for p in ev.asked],
                "always": always_text(ev.remember, request.kind),
            }
        )
        if self.gate is None:
            return Verdict(
                False,
                f"Permission to {what} is needed ({ev.reason}), but there is no one to ask, so "
                f"it was denied. {_DONT_RETRY}",
            )
        try:
            answer = await self.gate.ask(request)
        except Exception:  # CancelledError is not an Exception: a cancelled run stays cancelled
            log.warning("the permission gate failed; denying", exc_info=True)
            return Verdict(
                False,
                f"Asking the user for permission to {what} failed, so it was denied. {_DONT_RETRY}",
            )
        if type(answer) is str and answer == "allow_always":  # exactly, not a look-alike
            self._remember(request, ev)
            return Verdict(True, f"The user allowed this for the session: {what}.", asked=True)
        if type(answer) is str and answer == "allow_once":
            return Verdict(True, f"The user allowed this once: {what}.", asked=True)
        return Verdict(False, f"The user denied permission to {what}. {_DONT_RETRY}")

    # --- the policy ---------------------------------------------------------------------

    def _evaluate(self, req: PermissionRequest, state: SandboxStatus | None) -> _Evaluation:
        command: str | None = None
        analysis: Analysis | None = None
        path: PathInfo | None = None
        if is_mcp(req.tool):
            return self._mcp(req)
        if req.kind == "execute":
            raw = req.subject if req.subject is not None else req.raw_input.get("command")
            command = raw if isinstance(raw, str) else None
            analysis = analyze(command) if command is not None else None
        else:
            path = path_info(req.subject, self._root, req.relative_path)
        for rule in self._deny:
            if rule.applies_to(req.tool, req.kind) and _denies(rule, req, command, analysis, path):
                return _Evaluation("deny", f"Denied by rule deny: {rule.text}")
        if req.kind in ("think", "read", "search"):
            return _Evaluation("allow", f"{req.kind} tools are allowed")
        if req.kind == "edit":
            return self._edit(req, path)
        ev = self._execute(req, command, analysis)
        return _fail_closed(ev, state, self.mode, bool(self._read_deny))

    def _mcp(self, req: PermissionRequest) -> _Evaluation:
        """An MCP tool: rules name it (`mcp__github__*`); read-only ones are allowed; a
        destructive one is asked in every mode; the rest like a command."""
        for rule in self._deny:
            if rule.applies_to(req.tool, req.kind):
                return _Evaluation("deny", f"Denied by rule deny: {rule.text}")
        if req.destructive:
            return _Evaluation("ask", "a destructive MCP tool (asked in every mode)")
        if req.kind == "read":
            return _Evaluation("allow", "read-only MCP tools are allowed")
        for rule in (*self._allow, *self._session):
            if rule.applies_to(req.tool, req.kind):
                return _Evaluation("allow", f"Allowed by rule allow: {rule.text}")
        if self.mode == "read-only":
            return _Evaluation("deny", "read-only mode: MCP tools that may change things are off")
        if self.mode == "auto":
            return _Evaluation("allow", "auto mode: MCP tools are allowed")
        return _Evaluation("ask", f"{self.mode} mode", remember=(parse_rule(req.tool),))

    def _edit(self, req: PermissionRequest, path: PathInfo | None) -> _Evaluation:
        if path is None or not path.inside or path.protected(self._root):
            if self.mode == "read-only":
                return _Evaluation("deny", "read-only mode: edits are not allowed")
            why = (
                "outside the workspace"
                if path is None or not path.inside
                else ("a protected path (it could run code or change the agent's settings)")
            )
            return _Evaluation("ask", why)  # in every mode, whatever the rules say
        for rule in self._allow:
            if rule.applies_to(req.tool, req.kind) and rule.matches_path(path):
                return _Evaluation("allow", f"Allowed by rule allow: {rule.text}")
        if self.mode == "read-only":
            return _Evaluation("deny", "read-only mode: edits are not allowed")
        if self._all_edits:
            return _Evaluation("allow", "The user allowed edits for this session")
        if self.mode in ("auto", "accept-edits"):
            return _Evaluation("allow", f"{self.mode} mode: edits are allowed")
        return _Evaluation("ask", "ask mode", remember=(parse_rule("edit"),))

    def _execute(
        self, req: PermissionRequest, command: str | None, analysis: Analysis | None
    ) -> _Evaluation:
        rules = [r for r in (*self._allow, *self._session) if r.applies_to(req.tool, req.kind)]
        if command is None or analysis is None or not analysis.parsed:
            # Only a rule for every command, or one naming this exact line, can allow it.
            for rule in rules:
                if rule.command_re is None or (rule.exact and rule.matches_command(command or "")):
                    return _Evaluation("allow", f"Allowed by rule allow: {rule.text}")
            risk = analysis.risk if analysis is not None else "normal"
            line = Part(command or "", command or "", tuple((command or "").split()), risk)
            return self._combine([line], [], command, parsed=False)
        uncovered: list[Part] = []
        used: list[Rule] = []
        for part in analysis.parts or (_EMPTY,):
            cover = next((r for r in rules if r.covers(part)), None)
            if cover is None:
                uncovered.append(part)
            elif cover not in used:
                used.append(cover)
        return self._combine(uncovered, used, command, parsed=True)

    def _combine(
        self, uncovered: list[Part], used: list[Rule], command: str | None, *, parsed: bool
    ) -> _Evaluation:
        asked: list[Part] = []
        for part in uncovered:
            outcome = _mode_answer(self.mode, part)
            if outcome == "deny":
                problem = "may change something" if parsed else "could not be parsed"
                return _Evaluation(
                    "deny",
                    f"read-only mode: only read-only commands may run, and `{_short(part.text)}` "
                    f"{problem}",
                )
            if outcome == "ask":
                asked.append(part)
        if asked:
            why = "ask mode" if self.mode == "ask" else f"{_describe(asked)} in {self.mode} mode"
            if parsed:
                remember = tuple(dict.fromkeys(session_rule(p) for p in asked if p.core.strip()))
            else:
                remember = _exact(command)
            return _Evaluation("ask", why, tuple(asked), command, parsed, remember)
        if used:
            return _Evaluation("allow", "Allowed by rule allow: " + ", ".join(r.text for r in used))
        return _Evaluation("allow", f"{self.mode} mode allows this command")

    def _remember(self, req: PermissionRequest, ev: _Evaluation) -> None:
        if req.kind == "edit":
            if ev.remember:  # ask mode: ordinary edits; protected ones are asked every time
                self._all_edits = True
            return
        if req.kind != "execute" and not is_mcp(req.tool):
            return
        known = {r.text for r in self._session}
        for rule in ev.remember:
            if rule.text not in known:
                known.add(rule.text)
                self._session.append(rule)


def _exact(command: str | None) -> tuple[Rule, ...]:
    """ "Always" for a line that was judged whole: that exact line."""
    if command is None or not command.strip():
        return ()
    return (parse_rule(f"bash({escape_command(command)})"),)


def _fail_closed(
    ev: _Evaluation, state: SandboxStatus | None, mode: str, read_deny: bool
) -> _Evaluation:
    """Without a sandbox to enforce the mode, nothing runs unasked (and read-only runs
    nothing); the same when read-deny rules exist that the sandbox cannot enforce."""
    if state is None or state.off or ev.outcome == "deny":
        return ev
    if state.backend is None:
        problem = f"no sandbox is available ({state.detail})"
    elif read_deny and not state.can_hide_paths:
        problem = f"the {state.backend} sandbox cannot hide the read-denied files"
    else:
        return ev
    if mode == "read-only":
        return _Evaluation(
            "deny",
            f"read-only mode runs no shell commands here: {problem}. Run `lsp-agent doctor`.",
        )
    if ev.outcome == "ask":
        return replace(ev, reason=f"{ev.reason}; also, {problem}")
    return _Evaluation("ask", problem, (), ev.command, ev.parsed, _exact(ev.command))


def _denies(
    rule: Rule,
    req: PermissionRequest,
    command: str | None,
    analysis: Analysis | None,
    path: PathInfo | None,
) -> bool:
    if req.kind != "execute":
        return rule.matches_path(path)
    if rule.command_re is None:
        return True
    if command is None:
        return False
    parts = analysis.parts if analysis is not None else ()
    texts = [command, *(t for p in parts for t in (p.text, p.core, p.runs, p.canonical))]
    # `xargs git` gets its words from its input: deny it if some words could complete it.
    if any(p.fed and rule.could_complete(p.canonical) for p in parts):
        return True
    if analysis is not None and not analysis.parsed:
        # Quoting is unknown, so any word may start a command (`echo 'x rm -rf y`).
        for part in parts:
            words = part.text.split()
            texts += [" ".join(words[k:]) for k in range(1, min(len(words), _MAX_SUFFIXES))]
    return any(rule.matches_command(t) for t in texts)


def _mode_answer(mode: str, part: Part) -> Outcome:
    if mode == "ask":
        return "ask"
    if mode == "auto":
        return "ask" if part.risk == "destructive" else "allow"
    if part.risk == "read_only":
        return "allow"
    return "deny" if mode == "read-only" else "ask"


def _describe(parts: list[Part]) -> str:
    risks = {p.risk for p in parts}
    return "a destructive command" if "destructive" in risks else "a command that may change things"


def is_mcp(tool: str) -> bool:
    return tool.startswith("mcp__")


def _action(req: PermissionRequest, command: str | None) -> str:
    if is_mcp(req.tool):
        return f"use the MCP tool {req.tool} ({_short(req.title)})"
    if req.kind == "execute":
        return f"run `{_short(command or req.title)}`"
    if req.kind == "edit":
        return f"edit `{req.relative_path or req.subject or req.title}`"
    return f"use {req.tool} ({_short(req.title)})"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
