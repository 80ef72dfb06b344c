"""Attack tests: a hostile "model" (the scripted fake server) sends tool calls to a real
`lsp-agent run`, and each test checks what really happened afterwards: the files, the
processes, and every output (the terminal, --json events, the next model request, the
store). One class of attack per file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lsp_agent.agent.events import Event, ToolCallFinished, event_adapter
from tests.e2e.test_cli import LSP_AGENT
from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply

SECRET = "sk-attack-SECRET-7d41c0ffee9b"
PROMPT = "Allow? [y]es / [n]o"


@dataclass
class Attack:
    run: subprocess.CompletedProcess[str]
    events: list[Event]
    server: FakeModelServer
    state: Path

    @property
    def results(self) -> list[ToolCallFinished]:
        return [e for e in self.events if isinstance(e, ToolCallFinished)]

    @property
    def statuses(self) -> list[str]:
        return [r.status for r in self.results]

    @property
    def asked(self) -> int:
        """How many permission prompts the terminal showed."""
        return self.run.stderr.count(PROMPT)

    def everything(self) -> str:
        """All the run printed, all it sent to the model, and all its store holds."""
        sent = json.dumps([r.body for r in self.server.chat_requests])
        return "\n".join([self.run.stdout, self.run.stderr, sent, store_text(self.state)])


def store_text(state: Path) -> str:
    out = []
    for db in state.glob("*.db"):
        with sqlite3.connect(db) as conn:
            for (table,) in conn.execute("select name from sqlite_master where type='table'"):
                for row in conn.execute(f'select * from "{table}"'):
                    out.append(repr(row))
    for path in state.rglob("*"):
        if path.is_file() and not path.name.endswith((".db", ".db-wal", ".db-shm")):
            out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "victim.txt").write_text("precious\n")
    return root


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def env(state: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    clean.update(OPENAI_API_KEY=SECRET, NO_COLOR="1", LSP_AGENT_STATE_DIR=str(state))
    return clean


class Attacker:
    """Runs `lsp-agent run` in a workspace with the model sending the given tool calls,
    one per turn, then "done"."""

    def __init__(self, server: FakeModelServer, ws: Path, env: dict[str, str], state: Path):
        self.server, self.ws, self.env, self.state = server, ws, env, state

    def settings(self, toml: str) -> None:
        (self.ws / ".lsp-agent.toml").write_text(toml)

    def __call__(
        self,
        *calls: tuple[str, dict[str, Any]],
        mode: str = "auto",
        answers: str = "",
    ) -> Attack:
        if calls:  # else the test scripted the server itself
            self.server.clear()
            self.server.script(*(tool_call_reply([c]) for c in calls), text_reply("done"))
        command = [LSP_AGENT, "run", "go", "--workspace", str(self.ws), "--json"]
        command += ["--base-url", self.server.base_url, "--permission-mode", mode]
        done = subprocess.run(
            command,
            input=answers,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        events = [event_adapter.validate_json(line) for line in done.stdout.splitlines()]
        return Attack(done, events, self.server, self.state)


@pytest.fixture
def attack(
    model_server: FakeModelServer, ws: Path, env: dict[str, str], state: Path
) -> Iterator[Attacker]:
    yield Attacker(model_server, ws, env, state)


def bash(command: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    return ("bash", {"command": command, **extra})
