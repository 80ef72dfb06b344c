"""The client's stdio pipes as asyncio transports: no threads, no blocking writes.

pygls reads stdin through a thread pool (three thread hops per message, each waiting for a
CPU when the machine is busy) and writes stdout with a blocking flush on the event loop (an
editor slow to read stalls every session). Here reading is an asyncio StreamReader and
writing goes through a transport that buffers instead of blocking. Only for pipes and
sockets: a terminal or a file keeps pygls's own reader and writer (making a terminal
non-blocking would leak into the shell that shares it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import threading
from typing import BinaryIO

log = logging.getLogger(__name__)

HEADER_LIMIT = 1 << 20  # one header line; bodies are read by length, without a limit
CLOSE_S = 5.0  # at exit, how long buffered frames may take to reach the client


def usable(*files: BinaryIO) -> bool:
    """Whether every file is a pipe or a socket."""
    try:
        modes = [os.fstat(f.fileno()).st_mode for f in files]
    except (OSError, ValueError):
        return False
    return all(stat.S_ISFIFO(m) or stat.S_ISSOCK(m) for m in modes)


class PipeReader:
    """pygls's reader interface over a StreamReader; b"" means the client is gone."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        while True:
            try:
                return await self._stream.readline()
            except ValueError:  # a "line" past HEADER_LIMIT: garbage, and already dropped
                log.warning("dropped an over-long header line from the client")

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


class _Closing(asyncio.Protocol):
    def __init__(self) -> None:
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class PipeWriter:
    """pygls's writer interface over a write transport. Frames written in one event-loop
    iteration (a tool call's start, progress and result) leave in one write: one system
    call and one wake-up of the client instead of one per frame."""

    def __init__(self, transport: asyncio.WriteTransport, protocol: _Closing) -> None:
        self._transport = transport
        self._protocol = protocol
        self._frames: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def write(self, data: bytes) -> None:
        if self._transport.is_closing():
            raise BrokenPipeError("the client closed its end of the pipe")
        if threading.get_ident() != self._thread:  # transports belong to the loop's thread
            self._loop.call_soon_threadsafe(self.write, data)
            return
        if not self._frames:
            self._loop.call_soon(self.flush)
        self._frames.append(data)

    def flush(self) -> None:
        frames, self._frames = self._frames, []
        if frames and not self._transport.is_closing():
            self._transport.write(b"".join(frames))  # sends now if the pipe has room, else buffers

    async def close(self) -> None:
        """Close once what is buffered has been written (the transport does that)."""
        self.flush()
        self._transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.closed), CLOSE_S)
        except TimeoutError:
            self._transport.abort()


async def connect(stdin: BinaryIO, stdout: BinaryIO) -> tuple[PipeReader, PipeWriter]:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=HEADER_LIMIT, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream, loop=loop), stdin)
    transport, protocol = await loop.connect_write_pipe(_Closing, stdout)
    return PipeReader(stream), PipeWriter(transport, protocol)
