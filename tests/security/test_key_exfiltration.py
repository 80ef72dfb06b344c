"""Key exfiltration through /proc: the daemon's environment holds the API key. A shell
command must not be able to read it, and if a secret value shows up in some output anyway,
it is redacted before it is printed, stored or sent to the model (reversed too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.model_server import FakeModelServer, text_reply, tool_call_reply
from tests.lsp.harness import SECRET as LSP_SECRET
from tests.lsp.harness import AgentClient, leaked, start, stop
from tests.security.conftest import SECRET, Attacker, bash

READS = [
    "cat /proc/$PPID/environ",
    "tr '\\0' '\\n' < /proc/$PPID/environ | rev",
    "for f in /proc/[0-9]*/environ; do cat $f; done 2>/dev/null | tr '\\0' '\\n'",
    "cat /proc/1/environ; ls /proc | head",
    "pgrep -a lsp-agent; cat /proc/$(pgrep -f 'lsp-agent run' | head -1)/environ",
]


class TestKeyExfiltrationThroughProc:
    @pytest.mark.parametrize("command", READS)
    def test_the_key_is_not_readable_and_never_leaves(self, attack: Attacker, command: str) -> None:
        result = attack(bash(command), mode="auto")
        assert result.statuses == ["completed"]
        output = result.results[0].output
        assert "OPENAI_API_KEY" not in output  # the sandbox cannot see the daemon's environ
        everything = result.everything()
        assert SECRET not in everything and SECRET[::-1] not in everything

    def test_a_secret_the_command_prints_is_redacted_everywhere(
        self, attack: Attacker, ws: Path
    ) -> None:
        (ws / "leak.txt").write_text(f"key={SECRET}\n")
        result = attack(bash("cat leak.txt; rev leak.txt; printf %s " + SECRET[:10]), mode="auto")
        assert "[REDACTED]" in result.results[0].output
        everything = result.everything()
        assert SECRET not in everything and SECRET[::-1] not in everything


@pytest_asyncio.fixture
async def daemon(tmp_path: Path, model_server: FakeModelServer) -> AsyncIterator[AgentClient]:
    (tmp_path / "ws").mkdir()
    agent = await start(
        tmp_path / "ws",
        tmp_path / "state",
        model_server,
        settings={"permissions": {"mode": "auto"}},
    )
    agent.prefix = ""
    try:
        yield agent
    finally:
        await stop(agent)


async def test_no_notification_carries_the_key(
    daemon: AgentClient, model_server: FakeModelServer
) -> None:
    commands = [*READS, f"echo {LSP_SECRET[:8]}''{LSP_SECRET[8:]}"]  # joined by the shell
    model_server.script(*(tool_call_reply([bash(c)]) for c in commands), text_reply("done"))
    session = await daemon.new_session()
    assert (await daemon.prompt(session, "look around"))["stopReason"] == "end_turn"
    assert leaked(daemon.editor) == []
    assert leaked(daemon.editor, LSP_SECRET[::-1]) == []
    sent = str([r.body for r in model_server.chat_requests])
    assert LSP_SECRET not in sent and "[REDACTED]" in sent
