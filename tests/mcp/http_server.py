"""Start an MCP server that listens for Streamable HTTP on a free port, and stop it after."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx


@contextmanager
def serving(command: Callable[[int], tuple[list[str], dict[str, str]]], name: str) -> Iterator[str]:
    """The server's /mcp URL once it accepts connections; `command(port)` is (argv, env)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv, env = command(port)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(400):  # until it accepts connections (a condition, not a duration)
            try:
                httpx.get(url, timeout=0.25)
                break
            except httpx.TransportError:
                assert proc.poll() is None, f"the {name} exited"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
