"""The `lsp-agent` command: run, doctor.

Exit codes: 0 the run ended normally; 1 a model or internal error; 2 bad usage or
configuration; 3 a turn or budget limit stopped the run; 4 the context overflowed;
130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from lsp_agent import __version__
from lsp_agent.config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_LIMIT, EXIT_OVERFLOW, EXIT_CANCELLED = 0, 1, 2, 3, 4, 130
EXIT_HELP = """exit codes:
  0    the agent finished          3    a turn or budget limit stopped the run
  1    a model or internal error   4    the context overflowed
  2    bad usage or configuration  130  cancelled (Ctrl-C)"""
EXIT_BY_STOP = {
    "end_turn": EXIT_OK,
    "model_error": EXIT_ERROR,
    "max_turns": EXIT_LIMIT,
    "budget": EXIT_LIMIT,
    "context_overflow": EXIT_OVERFLOW,
    "cancelled": EXIT_CANCELLED,
}


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
    run.add_argument("prompt", help="what to do; '-' reads it from stdin")
    _add_common(run)
    run.add_argument("--permission-mode", choices=["read-only", "ask", "accept-edits", "auto"])
    run.add_argument("--max-turns", type=int, metavar="N")
    run.add_argument("--json", action="store_true", help="print one JSON event per line")

    doctor = sub.add_parser("doctor", help="check the configuration and reach the model")
    _add_common(doctor)
    return parser


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", type=Path, metavar="DIR", help="default: the current dir")
    p.add_argument("--model", metavar="M", help="model name")
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible base URL")


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.model:
        out.setdefault("model", {})["name"] = args.model
    if args.base_url:
        out.setdefault("model", {})["baseUrl"] = args.base_url
    if getattr(args, "permission_mode", None):
        out["permissions"] = {"mode": args.permission_mode}
    if getattr(args, "max_turns", None) is not None:
        out["limits"] = {"maxTurns": args.max_turns}
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        workspace = (args.workspace or Path.cwd()).resolve()
        if not workspace.is_dir():
            raise ConfigError(f"workspace {workspace} is not a directory: pass --workspace DIR")
        settings = load_settings(workspace, flag_overrides(args))
    except ConfigError as e:
        print(f"lsp-agent: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "doctor":
        from lsp_agent.doctor import doctor

        return asyncio.run(doctor(workspace, settings))
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        print("lsp-agent: error: the prompt is empty: pass it as an argument", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_run(prompt, workspace, settings, as_json=args.json))


async def _run(prompt: str, root: Path, settings: Settings, *, as_json: bool) -> int:
    from lsp_agent.agent.context import system_prompt
    from lsp_agent.agent.loop import run_agent
    from lsp_agent.agent.tool_runner import ToolRunner
    from lsp_agent.model.client import ModelClient
    from lsp_agent.permissions import Permissions
    from lsp_agent.terminal.gate import TerminalGate
    from lsp_agent.terminal.sinks import ConsoleSink, JsonlSink
    from lsp_agent.tools import default_tools
    from lsp_agent.tools.processes import kill_all
    from lsp_agent.workspace import DiskWorkspace

    sink = JsonlSink() if as_json else ConsoleSink()
    workspace = DiskWorkspace([root])
    try:
        permissions = Permissions(settings.permissions, TerminalGate(), root)
    except ValueError as e:
        print(f"lsp-agent: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    runner = ToolRunner(default_tools(), workspace, permissions, settings, sink.emit)
    model = ModelClient(settings.model, settings.api_key())
    task = asyncio.create_task(
        run_agent(
            prompt,
            [system_prompt(root)],
            model=model,
            runner=runner,
            sink=sink,
            settings=settings,
        )
    )
    _cancel_on_signals(task, kill_all)
    try:
        finished = await task
    finally:
        await model.aclose()
    return EXIT_BY_STOP[finished.stop_reason]


def _cancel_on_signals(task: asyncio.Task[Any], kill_all: Any) -> None:
    """First Ctrl-C (or SIGTERM) cancels the run cleanly; a second one exits at once."""
    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal() -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            kill_all()
            os._exit(EXIT_CANCELLED)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
