"""Rule syntax, command and path matching, and what "allow always" remembers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_agent.agent.events import ToolKind
from lsp_agent.permissions import analyze, parse_rule
from lsp_agent.permissions.rules import PathInfo, parse_rules, path_info, session_rule

ROOT = Path("/ws")


# --- syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "kinds", "pattern"),
    [
        ("bash", "bash", {"execute"}, None),
        ("shell(ls*)", "shell", {"execute"}, "ls*"),
        ("execute(make)", "execute", {"execute"}, "make"),
        ("Bash(git status*)", "bash", {"execute"}, "git status*"),
        ("edit(src/**)", "edit", {"edit"}, "src/**"),
        ("write", "write", {"edit"}, None),
        ("read(secrets/**)", "read", {"read", "search"}, "secrets/**"),
        ("edit_file(*.md)", "edit_file", None, "*.md"),
        ("grep", "grep", None, None),
        ("  bash( npm test )  ", "bash", {"execute"}, "npm test"),
        ("bash(echo (x))", "bash", {"execute"}, "echo (x)"),
        ("mcp.server-tool", "mcp.server-tool", None, None),
    ],
)
def test_parse_rule(text: str, tool: str, kinds: set[str] | None, pattern: str | None) -> None:
    rule = parse_rule(text)
    assert rule.tool == tool
    assert (set(rule.kinds) if rule.kinds is not None else None) == kinds
    assert rule.pattern == pattern
    assert rule.text == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("bash(git status", "missing the closing ')'"),
        ("bash()", "empty pattern"),
        ("bash(  )", "empty pattern"),
        ("ba sh", "expected a tool name"),
        ("bash(x) y", "unexpected text after ')'"),
        ("(ls)", "expected a tool name"),
        ("9bash", "expected a tool name"),
        ("bash(ls \\)", "lone"),
        ("edit([z-a])", "bad pattern"),
    ],
)
def test_invalid_rules_raise_naming_the_rule(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid permission rule") as info:
        parse_rule(text)
    assert message in str(info.value)
    assert repr(text) in str(info.value) or not text.strip()


@settings(max_examples=500)
@given(st.text(max_size=40) | st.builds("bash({})".format, st.text(max_size=30)))
def test_parse_rule_raises_only_value_error(text: str) -> None:
    try:
        rule = parse_rule(text)
    except ValueError as e:
        assert str(e).startswith("invalid permission rule")
        return
    rule.matches_command("git status")  # a parsed rule can always be used
    rule.matches_path(path_info("a/b", ROOT))


def test_parse_rules_names_the_list() -> None:
    with pytest.raises(ValueError, match=r"permissions\.deny: invalid permission rule 'bash\('"):
        parse_rules(["bash(ls*)", "bash("], "deny")
    assert [r.text for r in parse_rules(["bash", "edit(a)"], "allow")] == ["bash", "edit(a)"]


@pytest.mark.parametrize(
    ("text", "tool", "kind", "applies"),
    [
        ("bash", "bash", "execute", True),
        ("bash", "run_command", "execute", True),  # an alias goes by kind
        ("shell", "bash", "execute", True),
        ("bash", "edit_file", "edit", False),
        ("edit", "edit_file", "edit", True),
        ("write", "write_file", "edit", True),
        ("edit", "read_file", "read", False),
        ("read", "read_file", "read", True),
        ("read", "grep", "search", True),
        ("read", "edit_file", "edit", False),
        ("edit_file", "edit_file", "edit", True),
        ("edit_file", "write_file", "edit", False),
        ("GREP", "grep", "search", True),
        ("update_plan", "update_plan", "think", True),
    ],
)
def test_which_calls_a_rule_applies_to(text: str, tool: str, kind: ToolKind, applies: bool) -> None:
    assert parse_rule(text).applies_to(tool, kind) is applies


# --- commands ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "command", "matches"),
    [
        ("git status*", "git status", True),
        ("git status*", "git status --short", True),
        ("git status*", "git statusx", True),  # a plain wildcard, as written
        ("git status*", "git log", False),
        ("git status", "git status", True),
        ("git status", "git status -s", False),
        ("git  status", "git   status", True),  # whitespace is collapsed on both sides
        ("npm test:*", "npm test", True),
        ("npm test:*", "npm test -- -x", True),
        ("npm test:*", "npm tests", False),
        ("npm test:*", "npm", False),
        ("* --help", "git --help", True),
        ("*", "anything at all", True),
        ("rm *", "rm -rf /", True),
        ("rm *", "rm", False),
        ("echo \\*", "echo *", True),
        ("echo \\*", "echo hello", False),
        ("a*b*c", "a-x-b-y-c", True),
        ("a*b*c", "a-x-c", False),
        ("make", "make\n", True),
    ],
)
def test_command_patterns(pattern: str, command: str, matches: bool) -> None:
    assert parse_rule(f"bash({pattern})").matches_command(command) is matches


def test_bare_rule_matches_every_command() -> None:
    rule = parse_rule("bash")
    assert rule.matches_command("rm -rf /")
    assert all(rule.covers(p) for p in analyze("ls > out; rm -rf x").parts)


@pytest.mark.parametrize(
    ("pattern", "command", "covered"),
    [
        ("git status*", "git status", True),
        ("git status*", "git status > out.txt", False),  # a wildcard is no licence to write
        ("git status > *", "git status > out.txt", True),
        ("git diff*", "git diff 2>/dev/null", True),
        ("npm test:*", "timeout 60 npm test", True),  # harmless wrappers are seen through
        ("npm test:*", "FOO=1 npm test -x", True),
        ("git diff*", "GIT_EXTERNAL_DIFF=./x git diff", False),  # not when they change the program
        ("rm:*", "xargs rm", False),  # xargs adds arguments
        ("timeout *", "timeout 5 rm -rf x", True),  # the rule as written
    ],
)
def test_allow_rule_covers_a_part(pattern: str, command: str, covered: bool) -> None:
    (part,) = analyze(command).parts
    assert parse_rule(f"bash({pattern})").covers(part) is covered


def test_commands_match_without_quotes() -> None:
    (part,) = analyze("git commit -m 'fix: the bug'").parts
    assert parse_rule("bash(git commit -m fix: *)").covers(part)


# --- paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "rel", "absolute", "inside"),
    [
        ("src/a.py", "src/a.py", "/ws/src/a.py", True),
        ("./src/a.py", "src/a.py", "/ws/src/a.py", True),
        ("src//b/../a.py", "src/a.py", "/ws/src/a.py", True),
        ("/ws/src/a.py", "src/a.py", "/ws/src/a.py", True),
        ("/ws", ".", "/ws", True),
        ("", ".", "/ws", True),
        ("/wsx/a.py", None, "/wsx/a.py", False),
        ("/etc/passwd", None, "/etc/passwd", False),
        ("../other/a.py", None, "/other/a.py", False),
        ("src/../../x", None, "/x", False),
        ("//ws//a", "a", "/ws/a", True),
    ],
)
def test_path_info(given: str, rel: str | None, absolute: str, inside: bool) -> None:
    assert path_info(given, ROOT) == PathInfo(rel, absolute, inside)


def test_path_info_without_a_root() -> None:
    assert path_info("src/a.py", None) == PathInfo("src/a.py", None, True)
    assert path_info("/abs/a.py", None) == PathInfo(None, "/abs/a.py", False)
    assert path_info(None, ROOT) is None


def test_path_info_prefers_the_callers_relative_path() -> None:
    assert path_info("/somewhere/else.py", ROOT, hint="src/a.py") == PathInfo(
        "src/a.py", "/ws/src/a.py", True
    )


def test_home_paths_are_expanded() -> None:
    info = path_info("~/.ssh/id_rsa", ROOT)
    assert info is not None and not info.inside
    assert info.abs == (Path.home() / ".ssh/id_rsa").as_posix()


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("src/**", "src/a.py", True),
        ("src/**", "src/deep/er/a.py", True),
        ("src/**", "src", True),  # a search of the directory reads what is inside
        ("src/**", "lib/src/a.py", False),  # a slash anchors the pattern at the root
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),  # * stays within a directory
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/sub/deep/a.py", True),
        ("src/**/*.py", "src/a.txt", False),
        ("**/test_*.py", "tests/unit/test_x.py", True),
        ("*.pem", "key.pem", True),
        ("*.pem", "deep/in/key.pem", True),  # no slash: any depth
        (".env", ".env", True),
        (".env", "app/.env", True),
        (".env", ".envrc", False),
        ("./build", "build/x.o", True),
        ("./build", "src/build/x.o", False),  # ./ anchors
        ("build/", "src/build/x.o", True),
        ("secrets", "secrets/key", True),  # a directory covers its contents
        ("a?.txt", "ab.txt", True),
        ("a?.txt", "a/.txt", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "b.txt", False),
        ("[!ab].txt", "c.txt", True),
        ("**", "anything/at/all", True),
        ("*", "deep/file", True),
        ("\\*.txt", "*.txt", True),
        ("\\*.txt", "a.txt", False),
    ],
)
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    rule = parse_rule(f"edit({pattern})", ignore_case=False)
    assert rule.matches_path(path_info(path, ROOT)) is matches


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**", "/etc/passwd", False),  # relative patterns never match outside
        ("**", "../x", False),
        ("*", "/ws/a.py", True),  # an absolute path inside the workspace is relative too
        ("/etc/**", "/etc/passwd", True),
        ("/etc/**", "etc/passwd", False),
        ("/ws/src/**", "src/a.py", True),  # absolute patterns see the absolute path
        ("/ws/src/**", "./src/a.py", True),
    ],
)
def test_absolute_and_relative(pattern: str, path: str, matches: bool) -> None:
    rule = parse_rule(f"read({pattern})", ignore_case=False)
    assert rule.matches_path(path_info(path, ROOT)) is matches


def test_home_patterns() -> None:
    rule = parse_rule("read(~/.ssh/**)")
    assert rule.absolute
    assert rule.matches_path(path_info("~/.ssh/id_rsa", ROOT))
    assert not rule.matches_path(path_info(".ssh/id_rsa", ROOT))


def test_case_insensitive_file_systems() -> None:
    assert parse_rule("read(.env)", ignore_case=True).matches_path(path_info(".ENV", ROOT))
    assert not parse_rule("read(.env)", ignore_case=False).matches_path(path_info(".ENV", ROOT))


def test_a_pattern_needs_a_path() -> None:
    assert not parse_rule("edit(src/**)").matches_path(None)
    assert parse_rule("edit").matches_path(None)


@pytest.mark.parametrize(
    ("path", "protected"),
    [
        (".git/config", True),
        (".git/hooks/pre-commit", True),
        ("sub/.git/config", True),
        (".lsp-agent.toml", True),
        (".lsp-agent/instructions.md", True),
        ("pyproject.toml", True),
        ("sub/pyproject.toml", True),
        (".vscode/tasks.json", True),
        (".env", True),
        (".env.local", True),
        ("AGENTS.md", True),
        ("CLAUDE.md", True),
        (".github/copilot-instructions.md", True),
        (".gitignore", False),
        ("src/git/x.py", False),
        ("docs/lsp-agent.toml", False),
        ("src/environment.py", False),
    ],
)
def test_protected_paths(path: str, protected: bool) -> None:
    info = path_info(path, ROOT)
    assert info is not None and info.protected(None) is protected


# --- what "allow always" remembers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("npm test -- -x", "bash(npm test:*)"),
        ("npm test", "bash(npm test:*)"),
        # exactly: programs that can run code or write files with some arguments
        ("make", "bash(make)"),
        ("pytest -x tests/", "bash(pytest -x tests/)"),
        ("awk '{print $1}' f", "bash(awk {print $1} f)"),
        ("sed -n 1p f", "bash(sed -n 1p f)"),
        ("find . -name x", "bash(find . -name x)"),
        ("tar tf x.tar", "bash(tar tf x.tar)"),
        ("git -C sub status", "bash(git -C sub status)"),
        ("git config user.name x", "bash(git config user.name x)"),
        ("npm install left-pad", "bash(npm install left-pad)"),
        ("cargo build --release", "bash(cargo build:*)"),
        ("git commit -m 'x'", "bash(git commit:*)"),
        ("ls src/dir", "bash(ls src/dir)"),
        ("npm run build -- --watch", "bash(npm run build:*)"),
        ("uv run pytest -q", "bash(uv run pytest -q)"),
        ("timeout 60 npm test", "bash(npm test:*)"),
        # exactly: destructive, writing to a file, interpreters and launchers
        ("rm -rf build", "bash(rm -rf build)"),
        ("git push --force", "bash(git push --force)"),
        ("npm test > log.txt", "bash(npm test > log.txt)"),
        ("python script.py", "bash(python script.py)"),
        ("node -e 'x'", "bash(node -e x)"),
        ("npx prettier --write .", "bash(npx prettier --write .)"),
        ("rm -rf build/*", "bash(rm -rf build/\\*)"),
    ],
)
def test_session_rule(command: str, rule: str) -> None:
    (part,) = analyze(command).parts
    assert session_rule(part).text == rule


def test_session_rule_covers_what_was_approved() -> None:
    for command in ["npm test -- -x", "rm -rf build/*", "npm test > log.txt", "git   status"]:
        (part,) = analyze(command).parts
        assert session_rule(part).covers(part), command


def test_a_remembered_prefix_never_covers_a_destructive_command() -> None:
    (push,) = analyze("git push origin main").parts
    rule = session_rule(push)
    assert rule.text == "bash(git push:*)"
    (forced,) = analyze("git push --force origin main").parts
    assert not rule.covers(forced)
    (again,) = analyze("git push origin feature").parts
    assert rule.covers(again)


def test_an_exact_remembered_rule_allows_only_that_command() -> None:
    (part,) = analyze("rm -rf build").parts
    rule = session_rule(part)
    assert rule.covers(part)
    (other,) = analyze("rm -rf src").parts
    assert not rule.covers(other)
