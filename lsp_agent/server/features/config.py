"""`agent/session/config`: a session's permission mode, model and review mode, read or
switched mid-session (stored with the session, like ACP's modes and config options)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

from lsp_agent.server import protocol as p
from lsp_agent.server.server import AgentServer, parse

if TYPE_CHECKING:
    from lsp_agent.agent.service import LiveSession


def choices(ls: AgentServer, live: LiveSession) -> dict[str, Any]:
    """The mode, model and review mode the session's next prompt runs with."""
    settings = live.config.apply(ls.config)
    return {
        "mode": settings.permissions.mode,
        "model": settings.model.name,
        "review": settings.editor.review,
    }


def register(server: AgentServer) -> None:
    @server.feature(p.SESSION_CONFIG)
    async def session_config(ls: AgentServer, params: Any) -> dict[str, Any]:
        from lsp_agent.config import MODES, PermissionMode, ReviewMode
        from lsp_agent.server import operations as ops

        assert set(get_args(p.Mode)) == set(get_args(PermissionMode))
        assert set(get_args(p.ReviewMode)) == set(get_args(ReviewMode))
        args = parse(p.SessionConfigParams, params)
        live = await ops.find(ls, args.session_id)
        svc = await ops.service(ls)
        if args.mode is not None or args.model is not None or args.review is not None:
            await svc.set_config(live, mode=args.mode, model=args.model, review=args.review)
        settings = live.config.apply(ls.config)
        if "models" not in live.extras:  # asked once per session: /models may be slow
            live.extras["models"] = await svc.models(settings)
        return p.SessionConfigResult(
            mode=settings.permissions.mode,
            model=settings.model.name,
            review=settings.editor.review,
            modes=[p.ModeChoice(id=m, name=n, description=d) for m, (n, d) in MODES.items()],
            models=live.extras["models"],
        ).dump()
