"""The line reader under the SSE parser: a response body's lines, read with a pause that
lets a trickling stream gather, a cap on one line's length and a deadline for the whole."""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import AsyncGenerator

import httpx

READ_GAP_S = 0.012  # see read_lines
IDLE_READ_S = 0.0005  # a read that took longer found the socket empty


class LineTooLong(Exception):
    """A line grew past the cap before its newline."""


async def read_lines(
    resp: httpx.Response, max_line: int, deadline: float
) -> AsyncGenerator[str | None, None]:
    """The body's lines, then None if `deadline` (time.monotonic) passed before its end.

    Servers often write one token per packet, and waking up for each costs far more than
    handling it: after a chunk we had to wait for, pause READ_GAP_S so the next tokens
    gather in the socket. The editor sees ~35 ms frames anyway.

    A line without its newline is held as a list of pieces, joined once: re-joining it at
    every chunk is quadratic (a 64 MB line took 49 s). Past `max_line` characters the
    stream is abandoned with MalformedStream (raised by the caller from LineTooLong)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending: list[str] = []  # pieces of the line so far, none holding a newline
    held = 0
    chunks = aiter(resp.aiter_bytes())
    while True:
        asked = time.monotonic()
        try:
            async with asyncio.timeout(deadline - asked):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            break
        except TimeoutError:
            yield None
            return
        waited = time.monotonic() - asked
        text = decoder.decode(chunk)
        if "\n" in text:
            first, *lines, rest = text.split("\n")
            pending.append(first)
            if held + len(first) > max_line:
                raise LineTooLong
            yield "".join(pending).removesuffix("\r")
            for line in lines:
                yield line.removesuffix("\r")
            pending, held = [rest], len(rest)
        else:
            pending.append(text)
            held += len(text)
        if held > max_line:
            raise LineTooLong
        if waited > IDLE_READ_S:  # the stream trickles: let it pile up a little
            await asyncio.sleep(READ_GAP_S)
    pending.append(decoder.decode(b"", final=True))
    last = "".join(pending)
    if last:
        yield last.removesuffix("\r")
