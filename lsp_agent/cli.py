"""The `lsp-agent` command line: parse, resolve the settings, dispatch."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path
from typing import Any

from lsp_agent import __version__
from lsp_agent.child_watcher import watch_children_with_pidfds
from lsp_agent.config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_LIMIT, EXIT_OVERFLOW, EXIT_CANCELLED = 0, 1, 2, 3, 4, 130
EXIT_HELP = """exit codes:
  0    the agent finished          3    a turn or budget limit stopped the run
  1    a model or internal error   4    the context overflowed
  2    bad usage or configuration  130  cancelled (Ctrl-C)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lsp-agent",
        description="A coding agent for OpenAI-compatible models, in the terminal or the editor.",
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lsp-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the agent on a prompt in the terminal")
    run.add_argument("prompt", help="what to do; '-' reads it from stdin; /compact, /clear")
    _add_workspace(run)
    _add_model(run)
    _add_state(run)
    resume = run.add_mutually_exclusive_group()
    resume.add_argument("--resume", metavar="SESSION_ID", help="continue a stored session")
    resume.add_argument(
        "--continue", dest="continue_", action="store_true", help="continue the latest session"
    )
    run.add_argument("--permission-mode", choices=["read-only", "ask", "accept-edits", "auto"])
    run.add_argument("--max-turns", type=int, metavar="N")
    run.add_argument("--json", action="store_true", help="print one JSON event per line")

    doctor = sub.add_parser("doctor", help="check the configuration and reach the model")
    _add_workspace(doctor)
    _add_model(doctor)

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging")
    serve.add_argument("--stdio", action="store_true", help=argparse.SUPPRESS)  # vscode adds it
    serve.add_argument("--log-file", type=Path, metavar="FILE", help="default: stderr")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    _add_state(serve)

    acp = sub.add_parser("acp", help="serve the Agent Client Protocol (v1) on stdio")
    acp.add_argument("--log-file", type=Path, metavar="FILE", help="default: stderr")
    acp.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    _add_state(acp)

    schema = sub.add_parser("schema", help="write the protocol's JSON Schemas")
    schema.add_argument("--out", type=Path, default=Path("schemas"), metavar="DIR")
    schema.add_argument("--check", action="store_true", help="fail if DIR is stale")

    sessions = sub.add_parser("sessions", help="list, show or delete stored sessions")
    _add_state(sessions)
    actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the sessions, newest first")
    listing.add_argument("--all", action="store_true", help="of every workspace")
    _add_workspace(listing)
    show = actions.add_parser("show", help="a session's transcript")
    delete = actions.add_parser("delete", help="delete a session")
    for action in (show, delete):
        action.add_argument("session_id")
    for action in (listing, show, delete):  # --state-dir also after the action
        action.add_argument("--state-dir", type=Path, metavar="DIR", default=argparse.SUPPRESS)

    from lsp_agent.terminal.models_command import add_parser as add_models

    add_models(sub)

    from lsp_agent.terminal.commands_command import add_parser as add_commands
    from lsp_agent.terminal.mcp_command import add_parser as add_mcp

    _add_workspace(add_commands(sub))

    _add_workspace(add_mcp(sub))

    undo = sub.add_parser("undo", help="revert the agent's file changes of the last turns")
    undo.add_argument("session_id", nargs="?", help="default: the latest session here")
    undo.add_argument("--turns", type=int, default=1, metavar="N")
    undo.add_argument("--force", action="store_true", help="even over changes made since")
    _add_workspace(undo)
    _add_state(undo)
    return parser


def _add_workspace(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", type=Path, metavar="DIR", help="default: the current dir")


def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="M", help="model name; local:PATH.gguf runs it in llama.cpp")
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible base URL")


def _add_state(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state-dir", type=Path, metavar="DIR", help="where sessions are stored")


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    model = getattr(args, "model", None)
    if model and model.startswith("local:"):
        path = model.removeprefix("local:")
        if not path:
            raise ConfigError("--model local: needs a GGUF file: --model local:PATH.gguf")
        out.setdefault("model", {}).update(provider="local", path=path)
    elif model:
        out.setdefault("model", {})["name"] = model
    if getattr(args, "base_url", None):
        out.setdefault("model", {})["baseUrl"] = args.base_url
    if getattr(args, "permission_mode", None):
        out["permissions"] = {"mode": args.permission_mode}
    if getattr(args, "max_turns", None) is not None:
        out["limits"] = {"maxTurns": args.max_turns}
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _tolerant_stdio()
    if args.command == "serve":
        from lsp_agent.server.main import serve

        return serve(args.tcp, args.log_level, args.log_file, args.state_dir)
    if args.command == "acp":
        from lsp_agent.acp.main import serve_acp

        return serve_acp(args.log_level, args.log_file, args.state_dir)
    if args.command == "schema":
        return schema(args.out, check=args.check)
    if args.command == "models":
        from lsp_agent.terminal import models_command

        return models_command.main(args)
    try:
        workspace = (getattr(args, "workspace", None) or Path.cwd()).resolve()
        if not workspace.is_dir():
            raise ConfigError(f"workspace {workspace} is not a directory: pass --workspace DIR")
        settings = load_settings(workspace, flag_overrides(args))
    except ConfigError as e:
        return fail(str(e))
    watch_children_with_pidfds()
    try:
        return asyncio.run(dispatch(args, workspace, settings))
    except KeyboardInterrupt:  # before a run handles Ctrl-C itself (a model still loading)
        return fail("cancelled", EXIT_CANCELLED)


async def dispatch(args: argparse.Namespace, workspace: Path, settings: Settings) -> int:
    if args.command == "doctor":
        from lsp_agent.doctor import doctor

        return await doctor(workspace, settings)
    from lsp_agent.terminal import commands

    if args.command == "run":
        prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
        if not prompt.strip():
            return fail("the prompt is empty: pass it as an argument, or '-' to read stdin")
        if prompt.strip().lower() == "/help":
            from lsp_agent.terminal import commands_command

            return commands_command.main(workspace)
        return await commands.run(args, prompt, workspace, settings)
    if args.command == "sessions":
        return await commands.sessions(args, workspace)
    if args.command == "commands":
        from lsp_agent.terminal import commands_command

        return commands_command.main(workspace, as_json=args.json)
    if args.command == "mcp":
        from lsp_agent.terminal import mcp_command

        return await mcp_command.main(args, workspace, settings)
    return await commands.undo(args, workspace)


def schema(out: Path, *, check: bool) -> int:
    from lsp_agent.server import schema as schemas

    if check:
        stale = schemas.stale(out)
        if stale:
            return fail(f"{out} is stale ({', '.join(stale)}): run `lsp-agent schema --out {out}`")
        return EXIT_OK
    for path in schemas.write(out):
        print(path)
    return EXIT_OK


def _tolerant_stdio() -> None:
    """A lone surrogate (from a model, or a non-UTF-8 file name) printed must not raise:
    it is shown as an escape instead. `serve` keeps stdout for JSON-RPC frames only."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"lsp-agent: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
