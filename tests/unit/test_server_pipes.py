"""The pipe reader's edges: garbage lines too long for a header, and a client gone mid-body."""

from __future__ import annotations

import asyncio
import os

from lsp_agent.server import pipes


async def test_an_over_long_line_is_dropped_and_reading_goes_on() -> None:
    stream = asyncio.StreamReader(limit=32)
    stream.feed_data(b"x" * 100 + b"\r\nContent-Length: 2\r\n")
    reader = pipes.PipeReader(stream)
    assert await reader.readline() == b"Content-Length: 2\r\n"


async def test_a_body_cut_short_reads_as_the_end() -> None:
    stream = asyncio.StreamReader()
    stream.feed_data(b'{"js')
    stream.feed_eof()
    assert await pipes.PipeReader(stream).readexactly(10) == b""


def test_only_pipes_and_sockets_are_usable(tmp_path: object) -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as r, os.fdopen(write_fd, "wb") as w:
        assert pipes.usable(r, w)
        with open(os.devnull, "rb") as null:
            assert not pipes.usable(r, null)


async def test_frames_of_one_loop_iteration_leave_in_one_write_in_order() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb", buffering=0) as r, os.fdopen(write_fd, "wb") as w:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.connect_write_pipe(pipes._Closing, w)
        writes: list[bytes] = []
        real_write = transport.write

        def counting(data: bytes) -> None:  # type: ignore[override]
            writes.append(bytes(data))
            real_write(data)

        transport.write = counting  # type: ignore[method-assign]
        writer = pipes.PipeWriter(transport, protocol)
        for frame in (b"one;", b"two;", b"three;"):
            writer.write(frame)
        assert writes == []  # held until the iteration ends
        await asyncio.sleep(0)
        assert writes == [b"one;two;three;"]
        writer.write(b"last;")
        await writer.close()  # close sends what is held
        assert writes[-1] == b"last;"
        assert r.read(100) == b"one;two;three;last;"


async def test_a_frame_written_from_another_thread_reaches_the_pipe_in_the_loop() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb", buffering=0) as r, os.fdopen(write_fd, "wb") as w:
        transport, protocol = await asyncio.get_running_loop().connect_write_pipe(pipes._Closing, w)
        writer = pipes.PipeWriter(transport, protocol)
        await asyncio.to_thread(writer.write, b"from a thread;")
        writer.write(b"then the loop;")
        await writer.close()
        assert r.read(100) == b"from a thread;then the loop;"
