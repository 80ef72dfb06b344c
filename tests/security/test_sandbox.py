"""The sandbox itself, proven by what the kernel refuses: a command the classifier let
through (here by a rule allowing every command) still cannot write in read-only mode,
reach the network when it is off, see or signal the daemon, or touch the host's runtime
sockets. Without any sandbox, shell commands fail closed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_cli import LSP_AGENT
from tests.fakes.model_server import FakeModelServer
from tests.security.conftest import Attacker, bash

ALLOW_ALL = '[permissions]\nallow = ["bash"]\n'


class TestSandboxEnforcement:
    def test_read_only_mode_cannot_write_even_when_a_rule_allows_the_command(
        self, attack: Attacker, ws: Path, tmp_path: Path
    ) -> None:
        attack.settings(ALLOW_ALL)
        outside = tmp_path / "outside.txt"
        command = f"rm -f victim.txt; echo x > new.txt; echo y > {outside}; echo ok"
        result = attack(bash(command), mode="read-only")
        assert result.statuses == ["completed"]  # the rule allowed it; the kernel refused
        assert "Read-only file system" in result.results[0].output
        assert (ws / "victim.txt").read_text() == "precious\n"
        assert not (ws / "new.txt").exists() and not outside.exists()

    def test_other_modes_write_only_the_workspace_and_a_private_tmp(
        self, attack: Attacker, ws: Path
    ) -> None:
        outside = Path.home() / f".lsp-agent-probe-{os.getpid()}"  # not under /tmp
        probe = Path(f"/tmp/lsp-agent-probe-{os.getpid()}")
        command = f"echo x > new.txt && echo t > {probe} && echo y > {outside}"
        try:
            result = attack(bash(command), mode="auto")
            assert (ws / "new.txt").read_text() == "x\n"
            assert not outside.exists()
            assert not probe.exists()  # its /tmp was its own
            assert "Read-only file system" in result.results[0].output
        finally:
            outside.unlink(missing_ok=True)
            probe.unlink(missing_ok=True)

    def test_the_network_is_off_in_read_only_mode_and_on_in_the_others(
        self, attack: Attacker, model_server: FakeModelServer
    ) -> None:
        attack.settings(ALLOW_ALL)
        port = model_server.base_url.split(":")[2].split("/")[0]
        probe = f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo reached || echo cut"
        assert "cut" in attack(bash(probe), mode="read-only").results[0].output
        assert "reached" in attack(bash(probe), mode="auto").results[0].output

    def test_the_daemon_is_out_of_sight_and_out_of_reach(self, attack: Attacker) -> None:
        look = "pkill -9 -x lsp-agent; ls /proc | grep -c '^[0-9]'; ls -A /run"
        result = attack(bash(look), bash("kill -9 -1"), mode="auto", answers="y\n")
        assert result.run.returncode == 0  # the run survived both to its end
        assert result.asked == 1  # kill -1 is destructive: asked, and allowed here
        count, *rest = result.results[0].output.splitlines()
        assert int(count) < 10  # only the sandbox's own processes exist for it
        assert set(rest[:-1]) <= {"systemd"}  # no D-Bus, Docker or user sockets in /run

    def test_landlock_confines_writes_too(self, attack: Attacker, ws: Path, tmp_path: Path) -> None:
        attack.settings('[shell]\nsandbox = "landlock"\n' + ALLOW_ALL)
        (ws / "src").mkdir()
        outside = tmp_path / "outside.txt"
        command = f"echo y > {outside}; echo x > src/new.txt; rm -f victim.txt; cat src/new.txt"
        result = attack(bash(command), mode="read-only")
        assert not outside.exists() and (ws / "victim.txt").exists()
        assert not (ws / "src" / "new.txt").exists()
        result = attack(bash(command), mode="auto")
        assert not outside.exists()
        assert (ws / "src" / "new.txt").read_text() == "x\n"  # inside a root's entry: allowed
        assert "Permission denied" in result.results[0].output


class TestWithoutASandbox:
    @pytest.fixture
    def unavailable(self, attack: Attacker) -> Attacker:
        attack.settings('[shell]\nsandbox = "seatbelt"\n')  # macOS only: none on Linux
        return attack

    def test_read_only_mode_runs_no_command(self, unavailable: Attacker, ws: Path) -> None:
        result = unavailable(bash("ls"), mode="read-only")
        assert result.statuses == ["denied"]
        assert "no sandbox is available" in result.results[0].output

    @pytest.mark.parametrize("mode", ["accept-edits", "auto"])
    def test_other_modes_ask_for_every_command(self, unavailable: Attacker, mode: str) -> None:
        result = unavailable(bash("ls"), mode=mode, answers="n\n")
        assert result.asked == 1 and result.statuses == ["denied"]
        assert "no sandbox is available" in result.run.stderr

    def test_doctor_says_which_sandbox_is_active(
        self, ws: Path, env: dict[str, str], model_server: FakeModelServer
    ) -> None:
        def doctor() -> str:
            command = [LSP_AGENT, "doctor", "--workspace", str(ws)]
            command += ["--base-url", model_server.base_url]
            return subprocess.run(command, capture_output=True, text=True, env=env).stdout

        assert "ok      shell sandbox: bubblewrap" in doctor()
        (ws / ".lsp-agent.toml").write_text('[shell]\nsandbox = "off"\n')
        assert "warning shell sandbox: off" in doctor()
        (ws / ".lsp-agent.toml").write_text('[shell]\nsandbox = "seatbelt"\n')
        assert "problem shell sandbox: none available" in doctor()
