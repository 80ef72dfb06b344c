"""A smoke test in Toad (the PyPI `batrachian-toad` terminal ACP client): tmux runs
`toad acp "<python> -m lsp_agent acp" <workspace>` against the fake model server, types
one prompt, and waits for the model's answer on the screen.

batrachian-toad needs Python >= 3.14 (it relies on deferred annotations: on 3.13 it fails
at import), so the test extras install it only there (`python_version >= "3.14"`); on an
older venv, or without tmux, this test skips and says why. It has not run on this
project's machines yet, which have no Python 3.14."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acp.harness import agent_env
from tests.fakes.model_server import FakeModelServer, text_reply

TOAD = Path(sys.executable).parent / "toad"
SCREEN_WAIT_S = 60  # a bound on a hung client, not a timing assertion

pytestmark = [
    pytest.mark.skipif(
        sys.version_info < (3, 14),
        reason="batrachian-toad needs Python >= 3.14 (the test extras install it only there)",
    ),
    pytest.mark.skipif(not TOAD.exists(), reason="batrachian-toad is not installed"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


class Screen:
    def __init__(self, name: str) -> None:
        self.name = name

    def text(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return done.stdout

    def wait_for(self, needle: str) -> str:
        """Polls the pane until `needle` shows (a TUI has no other signal to wait on)."""
        deadline = time.monotonic() + SCREEN_WAIT_S
        while time.monotonic() < deadline:
            shown = self.text()
            if needle in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never showed; the screen:\n{self.text()}")

    def type(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)


@pytest.fixture
def toad(tmp_path: Path, workspace: Path, state: Path, model: FakeModelServer) -> Iterator[Screen]:
    env = agent_env(state, model)
    env["HOME"] = str(tmp_path / "home")  # Toad's settings and history stay in the test
    env["TERM"] = "xterm-256color"
    agent = f"{shlex.quote(sys.executable)} -m lsp_agent acp"
    name = f"lsp-agent-toad-{tmp_path.name}"
    command = shlex.join([str(TOAD), "acp", agent, str(workspace)])
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "48", command],
        env=env,
        check=True,
    )
    try:
        yield Screen(name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_one_prompt_in_toad(toad: Screen, model: FakeModelServer) -> None:
    model.script(text_reply("Hello from the fake model.", chunk_size=4))
    toad.wait_for("lsp-agent")  # the agent's name, from initialize
    toad.type("say hello", "Enter")
    toad.wait_for("Hello from the fake model.")
    (chat,) = model.chat_requests
    users = [m["content"] for m in chat.body["messages"] if m["role"] == "user"]
    assert users[-1] == "say hello"
