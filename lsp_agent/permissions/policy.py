"""The policy: mode, rules and session memory decide allow, deny or ask; the gate asks.

Deny rules win over everything. Then an allow rule (or one remembered this session) allows
what it names, even in read-only mode. Otherwise the mode decides:

| kind              | read-only         | ask   | accept-edits          | auto               |
| ----------------- | ----------------- | ----- | --------------------- | ------------------ |
| think/read/search | allow             | allow | allow                 | allow              |
| edit              | deny              | ask   | allow in workspace    | allow              |
| execute           | read-only or deny | ask   | read-only, else ask   | ask if destructive |

Edits outside the workspace, under `.git/` or of `.lsp-agent.toml` are asked in accept-edits
mode: a git hook, git config or the settings file would let the model escalate itself.
A command line is judged part by part (see shell_classifier): each part must be allowed by
the mode or covered by an allow rule, and the line gets the worst answer of its parts.
Anything but an explicit allow from the gate is a deny (fail closed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lsp_agent.config import PermissionSettings
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


class Permissions:
    """One session's permissions: the settings, the gate, and what the user allowed always."""

    def __init__(
        self,
        settings: PermissionSettings,
        gate: PermissionGate | None = None,
        workspace_root: Path | None = None,
    ) -> None:
        self.settings = settings
        self.mode = settings.mode
        self._allow = parse_rules(settings.allow, "allow")  # ValueError names the bad rule
        self._deny = parse_rules(settings.deny, "deny")
        self.gate = gate
        self._root = workspace_root
        self._session: list[Rule] = []
        self._all_edits = False

    def remembered_rules(self) -> list[str]:
        """What "allow always" added this session, as rules (for display)."""
        return (["edit(**)"] if self._all_edits else []) + [r.text for r in self._session]

    def decide(self, request: PermissionRequest) -> Outcome:
        return self._evaluate(request).outcome

    async def check(self, request: PermissionRequest) -> Verdict:
        ev = self._evaluate(request)
        if ev.outcome != "ask":
            return Verdict(ev.outcome == "allow", ev.reason)
        what = _action(request, ev.command)
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
            return Verdict(True, f"The user allowed this for the session: {what}.")
        if type(answer) is str and answer == "allow_once":
            return Verdict(True, f"The user allowed this once: {what}.")
        return Verdict(False, f"The user denied permission to {what}. {_DONT_RETRY}")

    # --- the policy ---------------------------------------------------------------------

    def _evaluate(self, req: PermissionRequest) -> _Evaluation:
        command: str | None = None
        analysis: Analysis | None = None
        path: PathInfo | None = None
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
        return self._execute(req, command, analysis)

    def _edit(self, req: PermissionRequest, path: PathInfo | None) -> _Evaluation:
        for rule in self._allow:
            if rule.applies_to(req.tool, req.kind) and rule.matches_path(path):
                return _Evaluation("allow", f"Allowed by rule allow: {rule.text}")
        ordinary = path is not None and path.inside and not path.sensitive
        if self._all_edits and ordinary:
            return _Evaluation("allow", "The user allowed edits for this session")
        if self.mode == "read-only":
            return _Evaluation("deny", "read-only mode: edits are not allowed")
        if self.mode == "auto" or (self.mode == "accept-edits" and ordinary):
            return _Evaluation("allow", f"{self.mode} mode: edits are allowed")
        why = "ask mode" if self.mode == "ask" else "outside the workspace or a sensitive file"
        return _Evaluation("ask", why)

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
            return _Evaluation("ask", why, tuple(asked), command, parsed)
        if used:
            return _Evaluation("allow", "Allowed by rule allow: " + ", ".join(r.text for r in used))
        return _Evaluation("allow", f"{self.mode} mode allows this command")

    def _remember(self, req: PermissionRequest, ev: _Evaluation) -> None:
        if req.kind == "edit":
            self._all_edits = True  # still only edits inside the workspace, never sensitive ones
            return
        if req.kind != "execute":
            return
        if not ev.parsed:
            new = [parse_rule(f"bash({escape_command(ev.command)})")] if ev.command else []
        else:
            new = [session_rule(p) for p in ev.asked if p.core.strip()]
        known = {r.text for r in self._session}
        for rule in new:
            if rule.text not in known:
                known.add(rule.text)
                self._session.append(rule)


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
    texts = [command, *(t for p in parts for t in (p.text, p.core, p.runs))]
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


def _action(req: PermissionRequest, command: str | None) -> str:
    if req.kind == "execute":
        return f"run `{_short(command or req.title)}`"
    if req.kind == "edit":
        return f"edit `{req.relative_path or req.subject or req.title}`"
    return f"use {req.tool} ({_short(req.title)})"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
