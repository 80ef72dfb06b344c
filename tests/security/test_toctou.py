"""Swapping a directory for a symlink between the check and the use: a racing thread
exchanges `ws/dir` with a symlink to a directory outside the workspace (renameat2 with
RENAME_EXCHANGE, atomic) while the agent reads and writes `dir/...`. Nothing outside may
be read or written, whatever the timing."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.model_server import text_reply, tool_call_reply
from tests.security.conftest import Attacker

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
ROUNDS = 40


@pytest.fixture
def swapping(ws: Path, tmp_path: Path) -> Iterator[Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("OUTSIDE-SECRET\n")
    (ws / "dir").mkdir()
    (ws / "dir" / "secret.txt").write_text("inside\n")
    (ws / "evil").symlink_to(outside)
    libc = ctypes.CDLL(None, use_errno=True)
    a, b = os.fsencode(ws / "dir"), os.fsencode(ws / "evil")
    stop = threading.Event()
    swaps = [0]

    def race() -> None:
        while not stop.is_set():
            if libc.renameat2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) == 0:
                swaps[0] += 1

    thread = threading.Thread(target=race, daemon=True)
    thread.start()
    try:
        yield outside
    finally:
        stop.set()
        thread.join()
    assert swaps[0] > ROUNDS  # the race really ran during the test


class TestSymlinkSwaps:
    def test_reads_never_follow_a_swapped_symlink(self, attack: Attacker, swapping: Path) -> None:
        reads = [("read_file", {"path": "dir/secret.txt"})] * ROUNDS
        attack.server.clear()
        attack.server.script(tool_call_reply(reads), text_reply("done"))
        result = attack()
        assert len(result.results) == ROUNDS
        assert "OUTSIDE-SECRET" not in result.everything()
        assert any("inside" in r.output for r in result.results)  # some reads won the race

    def test_writes_never_land_outside(self, attack: Attacker, swapping: Path) -> None:
        writes = [
            tool_call_reply([("write_file", {"path": f"dir/new{i}.txt", "content": "x\n"})])
            for i in range(ROUNDS)
        ]
        attack.server.clear()
        attack.server.script(*writes, text_reply("done"))
        result = attack()
        assert len(result.results) == ROUNDS
        assert sorted(p.name for p in swapping.iterdir()) == ["secret.txt"]
        assert (swapping / "secret.txt").read_text() == "OUTSIDE-SECRET\n"
