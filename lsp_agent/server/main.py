"""`lsp-agent serve`: the language server on stdio (or TCP for debugging).

Nothing but JSON-RPC may reach stdout: logs go to stderr or a file, and to the client as
`window/logMessage` at the configured level.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import sys
from pathlib import Path
from typing import ClassVar

from lsp_agent.child_watcher import watch_children_with_pidfds
from lsp_agent.server.server import AgentServer, create_server
from lsp_agent.stdio_guard import own_stdio

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ClientLogHandler(logging.Handler):
    """Forwards the engine's log records to the editor as `window/logMessage`."""

    LEVELS: ClassVar[dict[int, int]] = {
        logging.ERROR: 1,
        logging.WARNING: 2,
        logging.INFO: 3,
        logging.DEBUG: 4,
    }

    def __init__(self, server: AgentServer, level: int) -> None:
        super().__init__(level)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self.server.protocol, "writer", None) is None:
            return
        kind = next(
            (v for k, v in sorted(self.LEVELS.items(), reverse=True) if record.levelno >= k), 4
        )
        params = {"type": kind, "message": self.format(record)}
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # another thread (the store's): the record still goes to stderr or the file
        with contextlib.suppress(Exception):  # logging must never raise
            self.server.notify("window/logMessage", params)


def configure_logging(server: AgentServer, level: str, log_file: Path | None) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # pygls logs whole message bodies at INFO/DEBUG: file contents and prompts stay out of logs.
    for name in ("pygls", "httpx", "httpcore", "watchfiles"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    client = ClientLogHandler(server, numeric)
    client.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("lsp_agent").addHandler(client)


def _kill_tool_processes() -> None:
    processes = sys.modules.get("lsp_agent.tools.processes")  # not loaded: nothing started
    if processes is not None:
        processes.kill_all_now()


def serve(tcp: str | None, log_level: str, log_file: Path | None, state_dir: Path | None) -> int:
    server = create_server(state_dir)
    configure_logging(server, log_level, log_file)
    atexit.register(_kill_tool_processes)  # the last line of defence against orphans
    if tcp:
        host, _, port = tcp.rpartition(":")
        watch_children_with_pidfds()
        server.start_tcp(host or "127.0.0.1", int(port))
        return 0
    messages, frames = own_stdio()
    watch_children_with_pidfds()
    server.start_io(messages, frames)
    return 0
