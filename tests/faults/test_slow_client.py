"""A client that stops reading the daemon's stdout must not stall the daemon: frames queue
up in the daemon, and it goes on handling requests (here: one that writes to the store)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from lsp_agent.store.db import DB_FILENAME

FLOOD = 3000  # error answers of ~100 bytes: several times a pipe's 64 KiB buffer


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%b" % (len(body), body)


async def read_until_id(out: asyncio.StreamReader, wanted: int) -> dict[str, Any]:
    while True:
        header = await out.readuntil(b"\r\n\r\n")
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        message: dict[str, Any] = json.loads(await out.readexactly(length))
        if message.get("id") == wanted:
            return message


def stored_sessions(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0


async def test_a_client_that_does_not_read_does_not_stall_the_daemon(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    state = tmp_path / "state"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "lsp_agent", "serve", "--stdio", "--state-dir", str(state)),
        cwd=tmp_path / "ws",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        root = (tmp_path / "ws").as_uri()
        init = {"processId": None, "rootUri": root, "capabilities": {}}
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
        await asyncio.wait_for(read_until_id(proc.stdout, 1), 60)
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))

        # From here on nothing reads the daemon's stdout.
        for i in range(FLOOD):
            proc.stdin.write(frame({"jsonrpc": "2.0", "id": 100 + i, "method": "x/unknown"}))
        new = {"jsonrpc": "2.0", "id": 2, "method": "agent/session/new", "params": {}}
        proc.stdin.write(frame(new))
        await asyncio.wait_for(proc.stdin.drain(), 30)  # the daemon keeps reading, too

        db = state / DB_FILENAME
        async with asyncio.timeout(30):
            # Another process's disk state: no event to await, so poll for the condition.
            while stored_sessions(db) == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.05)

        # Reading again, every answer arrives, in order.
        answer = await asyncio.wait_for(read_until_id(proc.stdout, 2), 60)
        assert "sessionId" in answer["result"]
        assert proc.returncode is None
    finally:
        proc.kill()
        await proc.wait()
