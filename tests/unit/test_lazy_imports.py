"""`lsp-agent run` starts without the MCP SDK (~0.3 s) and without lsprotocol's types
(~0.2 s) unless a server really starts: the language tools still declare themselves."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from lsp_agent import cli
from lsp_agent.langserver.tools import Lsp, with_tools
from lsp_agent.terminal import commands
from lsp_agent.tools import default_tools

cli.build_parser()
tools = with_tools(Lsp(None), default_tools())  # the run's tools, language ones included
specs = tools.specs()
types = sys.modules.get("lsprotocol.types")
print(json.dumps({
    "tools": [s["function"]["name"] for s in specs],
    "mcp": sorted(m for m in sys.modules if m == "mcp" or m.startswith("mcp.")),
    "pygls": sorted(m for m in sys.modules if m.startswith("pygls")),
    "lsprotocol_loaded": types is not None and type(types).__name__ != "_LazyModule",
}))
"""


def run_probe(code: str) -> str:
    """What a fresh interpreter running `code` prints (a clean sys.modules)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_the_cli_imports_neither_the_mcp_sdk_nor_lsprotocol_until_used() -> None:
    found = json.loads(run_probe(PROBE))
    assert "definition" in found["tools"] or "references" in found["tools"]
    assert found["mcp"] == []
    assert found["pygls"] == []
    assert found["lsprotocol_loaded"] is False


def test_the_lazy_module_loads_on_first_use() -> None:
    probe = (
        "import sys; from lsp_agent.lazy_import import lazy_module;"
        "m = lazy_module('lsprotocol.types'); assert 'lsprotocol.types' in sys.modules;"
        "print(m.Position(line=1, character=2).line)"
    )
    assert run_probe(probe).strip() == "1"


def test_the_language_server_answers_initialize_without_the_engine() -> None:
    """The engine (loop, model client, httpx) loads after `initialized`, off the loop: the
    server's own import must not pull it in (an import from a light module once did)."""
    probe = (
        "import json, sys; import lsp_agent.server.main, lsp_agent.server.server;"
        "print(json.dumps(sorted(m for m in ('lsp_agent.agent.loop', 'lsp_agent.model.client',"
        " 'httpx', 'lsp_agent.agent.service') if m in sys.modules)))"
    )
    assert json.loads(run_probe(probe)) == []
