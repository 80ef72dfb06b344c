"""`agent/session/*`: new, prompt, cancel, list, load, undo; `agent/commands`.
Handlers parse, delegate, dump.

The adapter (`operations`, over the engine's session service) is imported inside each
handler: starting the daemon must not load the engine (it is warmed up after `initialized`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsp_agent.server import protocol as p
from lsp_agent.server.features.config import choices
from lsp_agent.server.server import AgentServer, parse


def register(server: AgentServer) -> None:
    @server.feature(p.SESSION_NEW)
    async def session_new(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        args = parse(p.NewSessionParams, params)
        live = await ops.create(ls, ops.cwd(ls, args.cwd), args.title or "")
        return p.NewSessionResult(session_id=live.session.id, **choices(ls, live)).dump()

    @server.feature(p.SESSION_PROMPT)
    async def session_prompt(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        return await ops.prompt(ls, parse(p.PromptParams, params))

    @server.feature(p.SESSION_CANCEL)
    async def session_cancel(ls: AgentServer, params: Any) -> None:
        ls.cancel(parse(p.SessionIdParams, params).session_id)

    @server.feature(p.SESSION_LIST)
    async def session_list(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        parse(p.ListSessionsParams, params)
        return await ops.list_sessions(ls)

    @server.feature(p.SESSION_LOAD)
    async def session_load(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        args = parse(p.SessionIdParams, params)
        live = await ops.find(ls, args.session_id, reload=True)
        updates = await ops.replay(ls, live)
        return p.LoadSessionResult(
            session_id=live.session.id, updates=updates, **choices(ls, live)
        ).dump()

    @server.feature(p.SESSION_UNDO)
    async def session_undo(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.server import operations as ops

        return await ops.undo_turns(ls, parse(p.UndoParams, params))

    @server.feature(p.COMMANDS_LIST)
    async def commands_list(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.agent.commands import BUILTINS, load_commands
        from lsp_agent.server import operations as ops

        args = parse(p.ListCommandsParams, params)
        custom = await asyncio.to_thread(load_commands, ops.cwd(ls, args.cwd))  # disk I/O
        listed = [
            p.SlashCommand(name=n, description=BUILTINS[n], source="builtin") for n in OFFERED
        ]
        listed += [
            p.SlashCommand(name=c.name, description=c.description, source=c.source, hint=c.hint)
            for c in custom.found.values()
        ]
        return p.ListCommandsResult(commands=listed, notes=custom.notes).dump()


# What a prompt over LSP can start with (undo is its own request, agent/session/undo).
OFFERED = ("compact", "clear")
