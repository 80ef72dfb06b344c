"""The daemon hides its memory and environment (the API key) from processes of the same
user. Light: both entry points call it first."""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4


def hide_process() -> bool:
    """Mark this process non-dumpable: /proc/PID/environ and /proc/PID/mem then belong to
    root, so a command of the same user cannot read the key from them. LSP_AGENT_DUMPABLE=1
    skips it (a profiler needs to attach)."""
    if sys.platform != "linux" or os.environ.get("LSP_AGENT_DUMPABLE") == "1":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        log.warning("could not mark the process non-dumpable", exc_info=True)
        return False
