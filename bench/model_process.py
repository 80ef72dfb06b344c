"""`python -m bench.model_process`: the figure 4 model server in a process of its own, so
that streaming 4,000 tokens/s does not compete for the GIL with the client that times the
code actions. Prints its port, serves until stdin closes."""

from __future__ import annotations

import sys

from bench.model import BenchModelServer


def main() -> int:
    from bench.responsiveness import model_reply

    server = BenchModelServer()
    server.respond_with(model_reply)
    server.start()
    print(server.port, flush=True)
    sys.stdin.read()  # until the bench closes our stdin (or dies)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
