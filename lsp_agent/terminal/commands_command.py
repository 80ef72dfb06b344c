"""`lsp-agent commands [--json]` (and `lsp-agent run /help`): the slash commands a prompt may
start with, the built-ins first, then the workspace's and the user's custom commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lsp_agent.cli import EXIT_OK

# What `lsp-agent run` can start with; undo and sessions are subcommands of their own.
OFFERED = ("compact", "clear", "help")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    commands = sub.add_parser("commands", help="the slash commands, built-in and custom")
    commands.add_argument("--json", action="store_true", help="one JSON object per command")
    return commands


def main(workspace: Path, *, as_json: bool = False) -> int:
    from lsp_agent.agent.commands import BUILTINS, load_commands  # not for building the parser

    custom = load_commands(workspace)
    rows: list[tuple[str, str, str, str | None]]
    rows = [(name, BUILTINS[name], "builtin", None) for name in OFFERED]
    rows += [(c.name, c.description, c.source, c.hint) for c in custom.found.values()]
    for note in custom.notes:
        print(f"note: {note}", file=sys.stderr)
    if as_json:
        for name, text, source, hint in rows:
            print(json.dumps({"name": name, "description": text, "source": source, "hint": hint}))
        return EXIT_OK
    width = max(len(name) + len(hint or "") for name, _, _, hint in rows) + 3
    for name, text, source, hint in rows:
        usage = f"/{name}" + (f" {hint}" if hint else "")
        label = "" if source == "builtin" else f"  ({source})"
        print(f"{usage:<{width}} {text}{label}")
    print("(/undo and /sessions of the editors are `lsp-agent undo` and `lsp-agent sessions`)")
    return EXIT_OK
