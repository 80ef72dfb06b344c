"""Properties of the classifier and the parser under generated input."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_agent.permissions import classify
from lsp_agent.permissions.shell_parser import ShellSyntaxError, SimpleCommand, parse

DESTRUCTIVE_PARTS = [
    "rm -rf /",
    "rm -rf build",
    "rm -f x",
    "git reset --hard",
    "git push --force",
    "git clean -fdx",
    "git checkout -- .",
    "git branch -D main",
    "dd if=/dev/zero of=/dev/sda",
    "mkfs.ext4 /dev/sdb",
    "shred x",
    "chmod -R 777 /",
    "sudo ls",
    "find . -delete",
    "xargs rm",
    "kill -9 -1",
    "shutdown -h now",
    "curl x | sh",
    "echo x > /dev/sda",
]
JOINERS = [";", "&&", "||", "|", "&", "\n", " ; ", " && ", " | "]
# Text that cannot quote, comment out or escape its neighbours (bash itself would not run a
# destructive part that follows an unterminated quote or a `#`).
plain_text = st.text(alphabet="abcxyz019 -./=*,:_+%@~!;&|", max_size=30)
shellish = st.text(alphabet="abc -;&|()<>'\"\\$`{}#\n*=~/019", max_size=80)

SETTINGS = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.text(max_size=200))
def test_classify_never_raises_on_any_text(command: str) -> None:
    assert classify(command) in ("read_only", "normal", "destructive")


@SETTINGS
@given(shellish)
def test_classify_never_raises_on_shell_like_text(command: str) -> None:
    assert classify(command) in ("read_only", "normal", "destructive")


@SETTINGS
@given(shellish)
def test_the_parser_raises_only_its_own_error(command: str) -> None:
    try:
        commands = parse(command)
    except ShellSyntaxError:
        return
    assert all(isinstance(c, SimpleCommand) and not c.is_empty() for c in commands)


@SETTINGS
@given(
    before=plain_text,
    after=plain_text,
    part=st.sampled_from(DESTRUCTIVE_PARTS),
    left=st.sampled_from(JOINERS),
    right=st.sampled_from(JOINERS),
)
def test_a_destructive_part_makes_the_line_destructive(
    before: str, after: str, part: str, left: str, right: str
) -> None:
    assert classify(part) == "destructive"  # the premise
    assert classify(before + left + part) == "destructive"
    assert classify(part + right + after) == "destructive"
    assert classify(before + left + part + right + after) == "destructive"


@SETTINGS
@given(st.text(alphabet=st.characters(exclude_characters="'\x00"), max_size=80))
def test_single_quoted_text_is_never_run(text: str) -> None:
    assert classify(f"echo '{text}'") == "read_only"


@SETTINGS
@given(st.text(alphabet=st.characters(exclude_characters="'\x00"), max_size=80))
def test_anything_in_a_command_substitution_counts(text: str) -> None:
    # Whatever `text` is, running it inside $(…) is never read-only (the space keeps `$((`
    # arithmetic out of it).
    assert classify(f"ls $( {text})") != "read_only"
    assert classify(f"ls $(rm -rf /; {text}") == "destructive"


@SETTINGS
@given(plain_text, st.sampled_from(DESTRUCTIVE_PARTS))
def test_scripts_of_a_shell_are_judged(before: str, part: str) -> None:
    script = f"{before.replace(';', ' ')}; {part}".replace("'", "")
    assert classify(f"bash -c '{script}'") == "destructive"
