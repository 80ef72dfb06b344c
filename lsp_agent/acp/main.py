"""`lsp-agent acp`: the Agent Client Protocol (v1) on stdio, over the session service.

Nothing but JSON-RPC frames reach stdout: the protocol gets private copies of fds 0 and 1
(stdio_guard), logs go to stderr or a file.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import sys
from pathlib import Path
from typing import BinaryIO

from lsp_agent.child_watcher import watch_children_with_pidfds
from lsp_agent.stdio_guard import own_stdio

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STREAM_LIMIT = 50 * 1024 * 1024  # a prompt may embed whole files


def serve_acp(log_level: str, log_file: Path | None, state_dir: Path | None) -> int:
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, log_level.upper(), logging.INFO))
    for name in ("httpx", "httpcore", "acp"):  # they log bodies: prompts stay out of logs
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
    atexit.register(_kill_tool_processes)
    messages, frames = own_stdio()
    watch_children_with_pidfds()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(messages, frames, state_dir))
    return 0


async def _serve(messages: BinaryIO, frames: BinaryIO, state_dir: Path | None) -> None:
    from acp import AgentSideConnection
    from acp.schema import DeleteSessionRequest
    from acp.utils import normalize_result

    from lsp_agent.acp.agent import AcpAgent
    from lsp_agent.agent.service import SessionService
    from lsp_agent.tools.processes import kill_all

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=STREAM_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), messages)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, frames)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    service = SessionService(state_dir)
    agent = AcpAgent(service)
    # close/resume are "unstable" in SDK 0.12; it parses session/delete but routes none.
    conn = AgentSideConnection(agent, writer, reader, listening=False, use_unstable_protocol=True)
    router = conn._conn._handler
    router.route_request(
        "session/delete",
        DeleteSessionRequest,
        agent,
        "delete_session",
        adapt_result=normalize_result,
    )
    try:
        await conn.listen()  # until the client closes stdin
    finally:
        await service.close()
        await kill_all()
        await conn.close()


def _kill_tool_processes() -> None:
    processes = sys.modules.get("lsp_agent.tools.processes")
    if processes is not None:
        processes.kill_all_now()
