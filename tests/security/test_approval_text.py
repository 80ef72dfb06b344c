"""The approval prompt shows what will really run: every line, nothing cut without saying
so, why it is asked, and what "always" would allow."""

from __future__ import annotations

from pathlib import Path

from tests.security.conftest import Attacker, bash


class TestApprovalText:
    def test_every_line_of_the_command_is_shown(self, attack: Attacker, ws: Path) -> None:
        result = attack(bash("ls\nrm -r victim.txt"), mode="ask", answers="n\n")
        prompt = result.run.stderr
        assert "ls\nrm -r victim.txt\n" in prompt
        assert "Needs approval: ask mode." in prompt
        assert (ws / "victim.txt").exists()

    def test_a_long_first_line_does_not_hide_the_rest(self, attack: Attacker, ws: Path) -> None:
        long = "echo " + "a" * 3000 + " ; rm -r victim.txt"
        result = attack(bash(long), mode="ask", answers="v\nn\n")
        prompt = result.run.stderr
        _, _, tail = prompt.partition("more characters not shown")
        assert "; rm -r victim.txt" in tail.split("Allow?")[0]  # the end is shown at once
        assert long in prompt  # [v]iew all printed it whole
        assert "[v]iew all" in prompt
        assert (ws / "victim.txt").exists()

    def test_the_part_that_needs_approval_is_named(self, attack: Attacker) -> None:
        result = attack(bash("ls && rm -r victim.txt"), mode="accept-edits", answers="n\n")
        assert "a destructive command in accept-edits mode" in result.run.stderr
        assert "Asked for: `rm -r victim.txt`" in result.run.stderr

    def test_always_names_what_it_would_allow(self, attack: Attacker) -> None:
        result = attack(bash("npm test -- -x"), mode="ask", answers="n\n")
        assert "[a]lways (bash(npm test:*))" in result.run.stderr
        result = attack(bash("awk '{print $1}' victim.txt"), mode="ask", answers="n\n")
        assert "[a]lways (bash(awk {print $1} victim.txt))" in result.run.stderr

    def test_an_edit_shows_the_resolved_path_and_the_diff(self, attack: Attacker, ws: Path) -> None:
        (ws / "real.txt").write_text("old\n")
        (ws / "alias.txt").symlink_to("real.txt")
        write = ("write_file", {"path": "alias.txt", "content": "new\n"})
        result = attack(write, mode="ask", answers="n\n")
        assert "+++ b/real.txt" in result.run.stderr and "-old" in result.run.stderr
