"""What every figure shares: the result row, statistics, and a daemon against the fake model."""

from __future__ import annotations

import contextlib
import math
import shutil
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.model import BenchModelServer
from bench.rpc import Daemon


@dataclass
class Row:
    figure: str  # "1", "4", "F2", ...
    name: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("pass" if self.ok else "MISS")


@dataclass
class Bench:
    """The run's settings and its scratch space."""

    quick: bool = False
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lsp-agent-bench-")))
    notes: list[str] = field(default_factory=list)  # printed under the table
    extra: list[Path] = field(default_factory=list)  # scratch outside tmp

    def scratch(self, name: str, *, memory: bool = False) -> Path:
        """A fresh directory; with `memory`, in /dev/shm when there is one (removed at exit)."""
        base = self.tmp
        if memory and Path("/dev/shm").is_dir():
            base = Path(tempfile.mkdtemp(prefix="lsp-agent-bench-", dir="/dev/shm"))
            self.extra.append(base)
        path = base / f"{name}-{uuid.uuid4().hex[:6]}"
        path.mkdir(parents=True)
        return path

    def cleanup(self) -> None:
        for path in [self.tmp, *self.extra]:
            shutil.rmtree(path, ignore_errors=True)

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def model_options(server: BenchModelServer, **model: Any) -> dict[str, Any]:
    return {
        "model": {
            "baseUrl": server.base_url,
            "name": "fake-model",
            "contextWindow": 200_000,
            **model,
        },
        "permissions": {"mode": "auto"},
    }


@contextlib.asynccontextmanager
async def daemon(
    bench: Bench,
    server: BenchModelServer | None,
    *,
    root: Path | None = None,
    state: Path | None = None,
    options: dict[str, Any] | None = None,
    tag: str = "",
) -> AsyncIterator[Daemon]:
    """A started, initialized daemon (stopped on exit); its stderr goes to the scratch dir."""
    base = bench.scratch("daemon")
    if root is None:
        root = base / "ws"
        root.mkdir()
        (root / "app.py").write_text("def add(a, b):\n    return a + b\n")
    d = await Daemon.spawn(
        root, state or base / "state", tag=tag or f"bench-{uuid.uuid4().hex}", log=base / "log"
    )
    try:
        if options is None:
            assert server is not None, "pass the model server or the options"
            options = model_options(server)
        await d.initialize(options)
        yield d
    finally:
        await d.stop()


# --- statistics ---------------------------------------------------------------------


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def pct(xs: Sequence[float], p: float) -> float:
    """The p-th percentile, nearest rank (p99 of 100 samples is the 99th smallest)."""
    if not xs:
        return math.nan
    ordered = sorted(xs)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(ns: float) -> float:
    return ns / 1e6


def fmt_ms(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f} ms"
