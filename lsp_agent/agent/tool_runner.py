"""Running one turn's tool calls: validate, ask permission, execute, report.

Errors the model can fix (bad arguments, a failed match, a denial) become tool results;
nothing a model sends can crash the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from lsp_agent.agent.events import (
    Event,
    ToolCallFinished,
    ToolCallProgress,
    ToolCallStarted,
)
from lsp_agent.config import Settings
from lsp_agent.hooks import HookOutcome, Hooks, clip
from lsp_agent.model.assemble import dropped_note
from lsp_agent.model.wire import ToolCall, ToolMessage
from lsp_agent.permissions import PermissionRequest, Permissions
from lsp_agent.secrets import known_secrets, redactor
from lsp_agent.store.redact import Redactor
from lsp_agent.tools.base import Delegate, Tool, ToolContext, ToolError, ToolResult, ToolSet
from lsp_agent.tools.text import truncate
from lsp_agent.workspace import (
    EDIT_CALL,
    EditCall,
    EditRejected,
    Workspace,
    WorkspaceError,
    rule_name,
)

log = logging.getLogger(__name__)

READ_KINDS = frozenset({"read", "search", "think"})


@dataclass
class ToolRunner:
    """The collaborators tool calls need, and what the calls of this run changed."""

    tools: ToolSet
    workspace: Workspace
    permissions: Permissions
    settings: Settings
    emit: Callable[[Event], None]
    edited: list[Path] = field(default_factory=list)
    # Results of the current turn so far; on cancel the loop keeps these, marks the rest.
    results: dict[str, ToolMessage] = field(default_factory=dict)
    # Known secret values, redacted from every output before it is emitted or sent on.
    secrets: tuple[str, ...] | None = None
    hooks: Hooks | None = None  # the user's PreToolUse / PostToolUse hooks
    delegate: Delegate | None = None  # runs the `task` tool's sub-agents
    id_prefix: str = ""  # a sub-agent's: its calls are shown (and asked about) as PARENT/ID
    _redactor: Redactor = field(init=False)

    def __post_init__(self) -> None:
        if self.secrets is None:
            self.secrets = tuple(known_secrets(self.settings.api_key()))
        self._redactor = redactor(self.secrets)

    async def run_all(self, calls: list[ToolCall], allowed: int | None) -> list[ToolMessage]:
        """Run a turn's calls; consecutive read-only calls run concurrently, the rest in order.

        `allowed` caps how many may run (the tool-call budget); the rest are refused.
        """
        for call in calls:
            self.emit(self._started(call))
        self.results = {}
        runnable = calls if allowed is None else calls[:allowed]
        # A cap on calls at once: 500 greps in one turn would start 500 rg processes.
        slots = asyncio.Semaphore(self.settings.tools.max_parallel or max(2, os.cpu_count() or 2))
        for batch in _batches(runnable, self._is_read_only):
            await asyncio.gather(*(self._run_and_record(c, slots) for c in batch))
        for call in calls[len(runnable) :]:
            self.results[call.id] = self._finish(
                call, "failed", "Not run: the run's tool-call budget is used up."
            )
        return [self.results[c.id] for c in calls]

    async def _run_and_record(self, call: ToolCall, slots: asyncio.Semaphore) -> None:
        tool = self.tools.get(call.function.name)
        if tool is not None and not tool.slotted:  # e.g. `task`: its own cap applies
            self.results[call.id] = await self.run_one(call)
            return
        async with slots:
            self.results[call.id] = await self.run_one(call)

    async def run_one(self, call: ToolCall) -> ToolMessage:
        if (dropped := dropped_note(call.function.arguments)) is not None:
            return self._finish(call, "failed", dropped)  # too large: the client dropped them
        tool = self.tools.get(call.function.name)
        if tool is None:
            known = ", ".join(self.tools.names())
            return self._finish(
                call, "failed", f"Unknown tool '{call.function.name}'. Available tools: {known}."
            )
        ctx = ToolContext(
            self.workspace,
            self.settings,
            call.id,
            self.emit,
            permissions=self.permissions,
            secrets=self.secrets or (),
            delegate=self.delegate,
        )
        try:
            args = tool.parse(call.function.arguments)
            pre = await self._hook("PreToolUse", tool.name, {"tool_input": args.model_dump()}, call)
            if pre.block or pre.stop or pre.decision == "deny":
                return self._finish(call, "denied", f"A PreToolUse hook blocked this: {pre.reason}")
            diff = await tool.preview(args, ctx) if tool.preview else None
            request = PermissionRequest(
                tool_call_id=self.id_prefix + call.id,
                tool=tool.name,
                kind=tool.kind,
                title=tool.title(args),
                raw_input=args.model_dump(),
                subject=tool.subject(args),
                diff=diff,
                relative_path=self._resolved(tool, args),
                destructive=getattr(tool, "is_destructive", False),
            )
            # Built-in edits (they have a preview) write only through the workspace: when it
            # has the user review them, that review is the question.
            reviewed = tool.kind == "edit" and tool.preview is not None
            reviewed = reviewed and self.workspace.reviews_edits
            verdict = await self.permissions.check(request, reviewed=reviewed)
            if verdict.allowed and not verdict.asked and pre.decision == "ask" and not reviewed:
                verdict = await self.permissions.ask(request, f"a PreToolUse hook: {pre.reason}")
            if not verdict.allowed:
                return self._finish(call, "denied", verdict.reason)
            ctx.approved = diff
            ctx.user_approved = verdict.asked
            self.emit(ToolCallProgress(tool_call_id=call.id))
            token = EDIT_CALL.set(EditCall(request.tool_call_id, request.title))
            try:
                result = await tool.run(args, ctx)
            finally:
                EDIT_CALL.reset(token)
        except ToolError as e:
            return self._finish(call, "denied" if e.denied else "failed", str(e))
        except WorkspaceError as e:
            return self._finish(call, "denied" if isinstance(e, EditRejected) else "failed", str(e))
        except Exception as e:  # a bug in a tool: report it, keep the run alive
            log.exception("tool %s crashed", tool.name)
            return self._finish(call, "failed", f"Internal error in {tool.name}: {e!r}")
        finally:
            ctx.flush_output()
        self.edited.extend(p for p in result.edited if p not in self.edited)
        post = await self._hook(
            "PostToolUse",
            tool.name,
            {"tool_input": args.model_dump(), "tool_response": clip(result.output)},
            call,
        )
        notes = [
            *post.context,
            *([f"A PostToolUse hook says: {post.reason}"] if post.block else []),
        ]
        if notes:
            result = replace(result, output="\n\n".join([result.output, *notes]))
        return self._finish(call, "completed", result.output, result)

    async def _hook(
        self,
        event: Literal["PreToolUse", "PostToolUse"],
        tool: str,
        extra: dict[str, Any],
        call: ToolCall,
    ) -> HookOutcome:
        if self.hooks is None:
            return HookOutcome()
        payload = {"tool_name": tool, "tool_use_id": call.id, **extra}
        return await self.hooks.run(event, payload, tool)

    def _resolved(self, tool: Tool[Any], args: Any) -> str | None:
        """The path as it will really be used (symlinks, `..`, /proc/self/root resolved),
        relative to the workspace, so path rules judge what will really be opened."""
        path = getattr(args, "path", None)
        if not isinstance(path, str) or tool.kind == "execute":
            return None
        shown = self.workspace.display(self.workspace.resolve(path))
        rel, absolute = rule_name(self.workspace, shown)  # rules anchor at the root
        return rel if rel is not None else absolute

    def _is_read_only(self, call: ToolCall) -> bool:
        tool = self.tools.get(call.function.name)
        return tool is None or tool.kind in READ_KINDS

    def _started(self, call: ToolCall) -> ToolCallStarted:
        tool = self.tools.get(call.function.name)
        raw: dict[str, Any] | str = _loose_json(call.function.arguments)
        title, locations = call.function.name, []
        if tool is not None:
            try:
                args = tool.parse(call.function.arguments)
                title = tool.title(args)
                path = getattr(args, "path", None)
                if isinstance(path, str):
                    locations = [path]
            except ToolError:
                pass
        return ToolCallStarted(
            tool_call_id=call.id,
            name=call.function.name,
            title=title,
            kind=tool.kind if tool else "think",
            raw_input=raw,
            locations=locations,
        )

    def _finish(
        self, call: ToolCall, status: Any, output: str, result: ToolResult | None = None
    ) -> ToolMessage:
        output = truncate(self._redactor.text(output), self.settings.tools.output_limit)
        self.emit(
            ToolCallFinished(
                tool_call_id=call.id,
                status=status,
                output=output,
                diff=result.diff if result else None,
                diffs=result.diffs if result else [],
            )
        )
        return ToolMessage(tool_call_id=call.id, content=output)

    def settle(self, calls: list[ToolCall]) -> list[ToolMessage]:
        """After a cancel: the results that finished, and "interrupted" for the rest, in order.

        Every call must keep a result, or the transcript is invalid for every provider.
        """
        note = "Interrupted: the user cancelled the run before this tool call finished."
        return [self.results.get(c.id) or self._finish(c, "failed", note) for c in calls]


def _batches(calls: list[ToolCall], read_only: Callable[[ToolCall], bool]) -> list[list[ToolCall]]:
    out: list[list[ToolCall]] = []
    for call in calls:
        if read_only(call) and out and read_only(out[-1][-1]):
            out[-1].append(call)
        else:
            out.append([call])
    return out


def _loose_json(raw: str) -> dict[str, Any] | str:
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return raw
    return value if isinstance(value, dict) else raw
