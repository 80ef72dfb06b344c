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
import warnings
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


def npm(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args],
        cwd=EXTENSION,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


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
    result = npm(["test", "--silent"], env, timeout=540)
    output = (result.stdout + result.stderr)[-TAIL:]
    assert result.returncode == 0, f"npm test failed in editors/vscode:\n{output}"
    assert "Test Files" in result.stdout and " failed" not in result.stdout.split("Test Files")[-1]


E2E_ENV = "LSP_AGENT_E2E"


# run.mjs leaves its screenshots here (test-artifacts/ is gitignored)
ARTIFACTS = Path(os.environ.get("LSP_AGENT_ARTIFACTS", ROOT / "test-artifacts")) / "vscode"


def e2e_wanted() -> bool:
    """The real-VS-Code run needs Chromium and a code-server install (about two minutes):
    on in CI (scripts/test installs Debian's chromium there) or with LSP_AGENT_E2E=1."""
    return os.environ.get("CI") == "true" or os.environ.get(E2E_ENV) == "1"


def run_e2e(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return npm(["run", "--silent", "e2e:code-server"], env, timeout=900)


@pytest.mark.timeout(1900)
def test_vscode_end_to_end_in_code_server() -> None:
    """code-server + headless Chromium + playwright-core: install the .vsix, run "Agent:
    Ask…", see the streamed answer, allow the edit and see it land, reload the window.

    One retry: a browser driving a whole IDE has failures of its own (one seen in about a
    dozen runs: after a window reload the extension host saw default settings). A retried
    pass warns and shows the first failure, so a real regression (which fails both) cannot
    hide, and a flaky one stays visible."""
    if not e2e_wanted():
        pytest.skip(f"the real-VS-Code run is on in CI or with {E2E_ENV}=1")
    reason = skip_reason()
    if reason is not None:
        pytest.fail(reason)
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.fail(f"no Chromium at {chromium}: apt-get install chromium ripgrep libkrb5-dev")
    env = {
        **os.environ,
        "LSP_AGENT_COMMAND": lsp_agent_command(),
        "LSP_AGENT_PYTHON": sys.executable,
        "NO_COLOR": "1",
    }
    first = run_e2e(env)
    if first.returncode == 0 and "[e2e] PASS" in first.stdout:
        return
    failed = (first.stdout + first.stderr)[-TAIL:]
    second = run_e2e(env)
    output = (second.stdout + second.stderr)[-TAIL:]
    assert second.returncode == 0 and "[e2e] PASS" in second.stdout, (
        f"the code-server end-to-end run failed twice (screenshots in {ARTIFACTS}):\n"
        f"{failed}\n--- retry ---\n{output}"
    )
    warnings.warn(
        f"the code-server end-to-end run passed on its retry; first:\n{failed}", stacklevel=1
    )
