"""Keep stdout for protocol frames only (the LSP and the ACP front ends both use it)."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO


def own_stdio() -> tuple[BinaryIO, BinaryIO]:
    """JSON-RPC gets private copies of file descriptors 0 and 1. The originals then point
    at /dev/null and stderr, so nothing else can read the client's messages or write into
    the stream: not a stray print(), not a library writing to fd 1, and not a child
    process (which inherits 0 and 1)."""
    sys.stdout.flush()
    messages = os.fdopen(os.dup(0), "rb")
    frames = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return messages, frames
