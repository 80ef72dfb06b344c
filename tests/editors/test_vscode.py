"""The VS Code extension (editors/vscode) through its own tools: `npm test` type-checks with
tsc, builds the esbuild bundle, runs the vitest unit tests (a mocked `vscode` module) and
the Node test that drives the real `lsp-agent serve` over stdio with the fake model server.

scripts/test runs `npm ci` in editors/vscode first; without node, npm or node_modules this
test is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
TAIL = 12_000  # characters of npm's output shown when it fails


def skip_reason() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the VS Code extension's tests"
    if not (EXTENSION / "node_modules").is_dir():
        return "editors/vscode/node_modules is missing: run `npm ci` there (scripts/test does)"
    return None


def lsp_agent_command() -> str:
    """The `lsp-agent` of the Python running pytest (installed with `pip install -e .`)."""
    beside = Path(sys.executable).with_name("lsp-agent")
    found = str(beside) if beside.is_file() else shutil.which("lsp-agent")
    if found is None:
        pytest.fail("lsp-agent is not installed in this environment: pip install -e .")
    return found


@pytest.mark.timeout(600)
def test_vscode_extension_npm_test() -> None:
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    env = {
        **os.environ,
        "LSP_AGENT_COMMAND": lsp_agent_command(),
        "LSP_AGENT_PYTHON": sys.executable,
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }
    result = subprocess.run(
        ["npm", "test", "--silent"],
        cwd=EXTENSION,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    output = (result.stdout + result.stderr)[-TAIL:]
    assert result.returncode == 0, f"npm test failed in editors/vscode:\n{output}"
    assert "Test Files" in result.stdout and " failed" not in result.stdout.split("Test Files")[-1]
