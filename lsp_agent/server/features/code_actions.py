"""Code actions ("Ask agent to fix: …", "Ask agent about selection") and the commands they
run. Commands start a run and answer `{sessionId}` at once: any LSP client gets a spinner
from `$/progress` and sees the edits land, with no plugin."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t
from pygls.exceptions import JsonRpcInvalidParams

from lsp_agent.server import protocol as p
from lsp_agent.server.editor_context import ask_prompt, fix_prompt
from lsp_agent.server.server import AgentServer, parse

if TYPE_CHECKING:  # the engine loads on first use
    from lsp_agent.agent.service import LiveSession

log = logging.getLogger(__name__)
TITLE_LIMIT = 80


def register(server: AgentServer) -> None:
    @server.feature(
        t.TEXT_DOCUMENT_CODE_ACTION,
        t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]),
    )
    def code_action(ls: AgentServer, params: t.CodeActionParams) -> list[t.CodeAction]:
        uri, rng = params.text_document.uri, params.range
        actions = []
        for diagnostic in params.context.diagnostics:
            title = f"Ask agent to fix: {_clip(_first_line(diagnostic.message))}"
            arguments = {
                "uri": uri,
                "range": ls._json.unstructure(diagnostic.range),
                "diagnostics": [ls._json.unstructure(diagnostic)],
            }
            actions.append(
                t.CodeAction(
                    title=title,
                    kind=t.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    command=t.Command(title=title, command=p.CMD_FIX, arguments=[arguments]),
                )
            )
        if rng.start != rng.end:
            title = "Ask agent about selection"
            arguments = {"uri": uri, "range": ls._json.unstructure(rng)}
            actions.append(
                t.CodeAction(
                    title=title,
                    kind=t.CodeActionKind.Empty,
                    command=t.Command(title=title, command=p.CMD_ASK, arguments=[arguments]),
                )
            )
        return actions

    @server.command(p.CMD_FIX)
    async def fix(ls: AgentServer, *args: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        command = parse(p.FixCommandArgs, _single(args))
        text = await fix_prompt(command, lambda uri: ops.read_text(ls, uri))
        return await _start(ls, text)

    @server.command(p.CMD_ASK)
    async def ask(ls: AgentServer, *args: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        command = parse(p.AskCommandArgs, _single(args))
        text = await ask_prompt(
            command.prompt, command.uri, command.range, lambda u: ops.read_text(ls, u)
        )
        return await _start(ls, text)

    @server.command(p.CMD_RUN)
    async def run(ls: AgentServer, *args: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        command = parse(p.RunCommandArgs, _single(args))
        text = command.prompt
        if command.uri:
            text = await ask_prompt(
                text, command.uri, command.range, lambda u: ops.read_text(ls, u)
            )
        return await _start(ls, text)

    @server.command(p.CMD_CANCEL)
    async def cancel_command(ls: AgentServer, *args: Any) -> None:
        ls.cancel(parse(p.SessionIdParams, _single(args)).session_id)

    @server.command(p.CMD_UNDO)
    async def undo_command(ls: AgentServer, *args: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        return await ops.undo_turns(ls, parse(p.UndoParams, _single(args)))


async def _start(ls: AgentServer, text: str) -> dict[str, Any]:
    from lsp_agent.server import operations as ops

    live = await ops.create(ls, ops.cwd(ls, None))
    ls.spawn(_background(ls, live, text))
    return p.CommandResult(session_id=live.session.id).dump()


async def _background(ls: AgentServer, live: LiveSession, text: str) -> None:
    from lsp_agent.server import operations as ops

    try:
        finished = await ops.run_prompt(ls, live, text)
    except Exception:
        log.exception("background run of session %s failed", live.session.id)
        return
    if finished.error:
        ls.show_error(f"lsp-agent: {finished.error}")


def _single(args: tuple[Any, ...]) -> Any:
    if len(args) != 1:
        raise JsonRpcInvalidParams(
            message=f"invalid params: expected one argument object, got {len(args)}"
        )
    return args[0]


def _first_line(message: str) -> str:
    """A diagnostic's message may be several lines, or blank (some servers send " ")."""
    return next(iter(message.strip().splitlines()), "") or "this problem"


def _clip(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"
