"""`lsp-agent serve` with one more tool, `noisy`, that writes to stdout every way a tool
(or a library it calls) might: print(), sys.stdout, the raw file descriptor 1, and a child
process that inherits it. None of it may reach the JSON-RPC stream."""

from __future__ import annotations

import os
import subprocess
import sys

from pydantic import BaseModel

from lsp_agent.server import operations
from lsp_agent.tools.base import ToolContext, ToolResult, ToolSet, tool


class NoisyArgs(BaseModel):
    text: str = "noise"


@tool(kind="read", title=lambda a: "Make noise")
async def noisy(args: NoisyArgs, ctx: ToolContext) -> ToolResult:
    """Write to stdout in every way possible."""
    print(f"{args.text} from print()")
    sys.stdout.write(f"{args.text} from sys.stdout\n")
    sys.stdout.flush()
    os.write(1, f"{args.text} from fd 1\n".encode())
    # Blocking on purpose: as a careless tool (or a library under it) would.
    subprocess.run(["echo", f"{args.text} from a child process"], check=True)  # noqa: ASYNC221
    subprocess.run(["cat"], check=True, timeout=10)  # noqa: ASYNC221 (reads the inherited stdin)
    return ToolResult("made noise")


def main() -> int:
    defaults = operations.default_tools
    operations.default_tools = lambda: ToolSet([*defaults(), noisy])  # type: ignore[assignment]
    from lsp_agent.cli import main as cli

    return cli(["serve", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
