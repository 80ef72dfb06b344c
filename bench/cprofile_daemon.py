"""Run `python -m lsp_agent ...` with cProfile armed by signals: SIGUSR1 starts profiling
(CPU time of the main thread, time.thread_time), SIGUSR2 stops it and writes the stats to
$LSP_AGENT_BENCH_PROFILE. Used by bench/profile.py, so warm-up stays out of the profile."""

from __future__ import annotations

import cProfile
import os
import runpy
import signal
import sys
import time
from types import FrameType

profile = cProfile.Profile(time.thread_time)


def start(_sig: int, _frame: FrameType | None) -> None:
    profile.enable()


def stop(_sig: int, _frame: FrameType | None) -> None:
    profile.disable()
    profile.dump_stats(os.environ["LSP_AGENT_BENCH_PROFILE"])


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    if sys.argv[1:2] != ["-m"]:
        sys.exit("usage: python bench/cprofile_daemon.py -m MODULE [ARGS...]")
    module = sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
