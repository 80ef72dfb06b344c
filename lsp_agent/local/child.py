"""The llama.cpp server process: `python -m lsp_agent.local.child CONFIG_JSON`.

Started by `LocalServer`. Its stdout is a status channel to the parent (one JSON line per
stage); llama.cpp's own output goes to stderr, which the parent points at a log file, so
nothing it prints can reach the daemon's JSON-RPC stream. It stops when its stdin closes:
the parent's stop, or the parent's death (even by kill -9) closes it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO


def _status(out: TextIO, event: str, **fields: Any) -> None:
    out.write(json.dumps({"event": event, **fields}) + "\n")
    out.flush()


def configure(params: Any, config: dict[str, Any]) -> None:
    params.model.path = config["model"]
    params.n_parallel = config["parallel"]
    params.n_ctx = config["context_size"] * config["parallel"]  # split between the slots
    params.n_gpu_layers = config["gpu_layers"]
    if config.get("threads"):
        params.cpuparams.n_threads = config["threads"]
        params.cpuparams_batch.n_threads = config["threads"]
    if config.get("template"):
        params.chat_template = config["template"]
    params.use_jinja = True
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # llama.cpp binds a free port and reports it
    params.ui = False
    params.endpoint_props = True


def main(argv: list[str]) -> int:
    status = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever writes to fd 1 from now on lands in the log
    sys.stdout = sys.stderr
    config = json.loads(argv[1])
    started = time.monotonic()
    _status(status, "loading")
    try:
        import xllamacpp

        params = xllamacpp.CommonParams()
        configure(params, config)
        server = xllamacpp.Server(params)
    except ImportError:
        _status(status, "error", message="xllamacpp is not installed")
        return 3
    except Exception as e:  # the log says why; the parent shows its tail
        _status(status, "error", message=str(e))
        return 1
    _status(
        status,
        "ready",
        url=server.listening_address,
        load_s=round(time.monotonic() - started, 3),
        version=getattr(xllamacpp, "__version__", "?"),
    )
    sys.stdin.buffer.read()  # until the parent goes away
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
