"""The daemon answers `initialize` before the engine is imported (it loads off the loop
afterwards): the entry point must not pull the engine in by accident."""

from __future__ import annotations

import json
import subprocess
import sys

ENGINE = ["lsp_agent.tools", "lsp_agent.agent", "lsp_agent.model", "lsp_agent.store", "httpx"]


def test_the_server_entry_point_does_not_import_the_engine() -> None:
    code = (
        "import json, sys, lsp_agent.server.main; "
        f"print(json.dumps([m for m in {ENGINE!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
