"""The terminal commands that use sessions: run, sessions list/show/delete, undo."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsp_agent.agent.events import EventSink, RunFinished
from lsp_agent.agent.session import RunEnv, Session, load_session, new_session, prompt
from lsp_agent.agent.undo import undo as undo_changes
from lsp_agent.cli import EXIT_CANCELLED, EXIT_ERROR, EXIT_LIMIT, EXIT_OK, EXIT_OVERFLOW, fail
from lsp_agent.config import Settings
from lsp_agent.langserver import LangServers, with_langservers
from lsp_agent.local.defaults import NotConfigured
from lsp_agent.local.server import LocalConfigError, LocalModelError
from lsp_agent.mcp.manager import McpManager, with_mcp
from lsp_agent.model.client import ModelClient
from lsp_agent.permissions.rules import parse_rules
from lsp_agent.store import (
    AsyncSessionStore,
    SessionNotFoundError,
    StoreError,
    default_store_path,
)
from lsp_agent.terminal.gate import TerminalGate
from lsp_agent.terminal.local_model import run_settings
from lsp_agent.terminal.sinks import ConsoleSink, JsonlSink
from lsp_agent.terminal.transcript import print_transcript
from lsp_agent.tools import default_tools
from lsp_agent.tools.processes import kill_all_now, kill_children_now
from lsp_agent.tools.shell import is_secret
from lsp_agent.workspace import DiskWorkspace, WorkspaceError

EXIT_BY_STOP = {
    "end_turn": EXIT_OK,
    "model_error": EXIT_ERROR,
    "max_turns": EXIT_LIMIT,
    "budget": EXIT_LIMIT,
    "context_overflow": EXIT_OVERFLOW,
    "cancelled": EXIT_CANCELLED,
}


class UsageError(Exception):
    """Something the user must fix on the command line; the message says what."""


@asynccontextmanager
async def open_store(
    args: argparse.Namespace, settings: Settings | None
) -> AsyncIterator[AsyncSessionStore]:
    store = await AsyncSessionStore.open(
        default_store_path(args.state_dir), secrets=store_secrets(settings)
    )
    try:
        yield store
    finally:
        await store.close()


def store_secrets(settings: Settings | None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """What the store must never keep: the API key, and every secret-looking environment
    value (a tool can still print those, e.g. from /proc/$PPID/environ)."""
    # Short values ("1", "true", "none") are flags, not secrets, and would shred transcripts.
    found = [v for k, v in environ.items() if len(v.strip()) >= 8 and is_secret(k, v)]
    key = settings.api_key(environ) if settings else None
    return [key, *found] if key else found


async def run(args: argparse.Namespace, text: str, root: Path, settings: Settings) -> int:
    try:
        parse_rules(settings.permissions.allow, "permissions.allow")
        parse_rules(settings.permissions.deny, "permissions.deny")
        async with open_store(args, settings) as store:
            session = await _session(store, args, root)
            return await _run(
                store, session, text, root, settings, as_json=args.json, state=args.state_dir
            )
    except (ValueError, UsageError, StoreError, NotConfigured, LocalConfigError) as e:
        return fail(str(e))
    except LocalModelError as e:
        return fail(str(e), EXIT_ERROR)


async def _session(store: AsyncSessionStore, args: argparse.Namespace, root: Path) -> Session:
    if args.resume:
        try:
            return await load_session(store, await store.resolve_session_id(args.resume))
        except SessionNotFoundError:
            raise UsageError(f"no session {args.resume!r}: see `lsp-agent sessions list`") from None
    if args.continue_:
        latest = await store.latest_session(str(root))
        if latest is None:
            raise UsageError(f"no session to continue in {root}: start one without --continue")
        return await load_session(store, latest.id)
    return await new_session(store, root)


async def _run(
    store: AsyncSessionStore,
    session: Session,
    text: str,
    root: Path,
    settings: Settings,
    *,
    as_json: bool,
    state: Path | None = None,
) -> int:
    sink = JsonlSink() if as_json else ConsoleSink()
    mcp = McpManager(settings.mcp, session.root)
    # From here on, Ctrl-C is ours: the first cancels whatever runs (MCP servers starting,
    # the prompt), a second exits at once.
    whole = asyncio.create_task(_run_body(store, session, text, settings, sink, mcp, root, state))
    _cancel_on_signals(whole)
    try:
        finished = await whole
    except asyncio.CancelledError:  # cancelled before the prompt took over
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return fail("cancelled", EXIT_CANCELLED)
    if not as_json:
        print(f"session {session.id}", file=sys.stderr)
    return EXIT_BY_STOP[finished.stop_reason]


async def _run_body(
    store: AsyncSessionStore,
    session: Session,
    text: str,
    settings: Settings,
    sink: EventSink,
    mcp: McpManager,
    root: Path,
    state: Path | None,
) -> RunFinished:
    async with (
        run_settings(settings, state) as settings,
        ModelClient(settings.model, settings.api_key()) as model,
    ):
        workspace = session_workspace(session, root)
        langservers = LangServers(settings.langserver.servers, settings.langserver, workspace.roots)
        try:
            tools, notes = await with_mcp(mcp, default_tools())
            tools, ls_notes = with_langservers(langservers, tools)
            env = RunEnv(
                settings=settings,
                model=model,
                workspace=workspace,
                sink=sink,
                gate=TerminalGate(),
                tools=tools,
                notes=[*notes, *ls_notes],
                secrets=mcp.secrets(),
            )
            return await prompt(store, session, text, env)
        finally:
            await mcp.close()
            await langservers.close()


def session_workspace(session: Session, root: Path) -> DiskWorkspace:
    """The workspace is bounded by `root` when the session's cwd lies inside it (a session
    an editor began in a subfolder), else by the session's own folder; it starts at the cwd."""
    try:
        return DiskWorkspace([root], cwd=session.root)
    except WorkspaceError:
        return DiskWorkspace([session.root])


def _cancel_on_signals(task: asyncio.Task[Any]) -> None:
    """First Ctrl-C (or SIGTERM) cancels the run cleanly; a second one exits at once."""
    loop = asyncio.get_running_loop()
    seen = 0

    def on_signal() -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            kill_all_now()
            kill_children_now()  # MCP servers and search workers lead groups of their own
            os._exit(EXIT_CANCELLED)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


async def sessions(args: argparse.Namespace, root: Path) -> int:
    try:
        async with open_store(args, None) as store:
            if args.action == "list":
                where = None if args.all else str(root)
                for info in await store.list_sessions(where, nested=True):
                    when = datetime.datetime.fromtimestamp(info.updated_at).strftime(
                        "%Y-%m-%d %H:%M"
                    )
                    place = f"  {info.workspace}" if args.all else ""
                    print(f"{info.id}  {when}  {info.turns:>3} turns  {info.title}{place}")
                return EXIT_OK
            session_id = await store.resolve_session_id(args.session_id)
            if args.action == "show":
                info = await store.get_session(session_id)
                print_transcript(info, await store.load_messages(session_id))
            else:
                await store.delete_session(session_id)
                print(f"deleted session {session_id}")
            return EXIT_OK
    except SessionNotFoundError:
        return fail(f"no session {args.session_id!r}: see `lsp-agent sessions list`")
    except StoreError as e:
        return fail(str(e))


async def undo(args: argparse.Namespace, root: Path) -> int:
    try:
        async with open_store(args, None) as store:
            if args.session_id:
                session_id = await store.resolve_session_id(args.session_id)
            else:
                latest = await store.latest_session(str(root))
                if latest is None:
                    return fail(f"no session in {root} to undo: pass a SESSION_ID")
                session_id = latest.id
            session = await load_session(store, session_id)
            workspace = session_workspace(session, root)
            result = await undo_changes(store, session, workspace, args.turns, args.force)
    except SessionNotFoundError:
        return fail(f"no session {args.session_id!r}: see `lsp-agent sessions list`")
    except StoreError as e:
        return fail(str(e))
    if result.conflicts and not result.applied:
        names = ", ".join(result.conflicts)
        return fail(
            f"changed since the agent's edit: {names}. Nothing was undone; "
            "use --force to revert them anyway",
            EXIT_ERROR,
        )
    if not result.applied:
        print("nothing to undo")
        return EXIT_OK
    for path in result.reverted:
        print(f"reverted {path}")
    for path in result.deleted:
        print(f"deleted  {path}")
    return EXIT_OK
