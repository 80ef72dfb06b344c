"""The parts a command line is split into: what rules match, and how the parser copes."""

from __future__ import annotations

import time

import pytest

from lsp_agent.permissions import analyze, classify


@pytest.mark.parametrize(
    ("command", "parts"),
    [
        ("ls", ["ls"]),
        ("ls && rm -rf x", ["ls", "rm -rf x"]),
        ("a | b; c & d || e", ["a", "b", "c", "d", "e"]),
        ("ls $(rm -rf /)", ["rm -rf /", "ls $(rm -rf /)"]),
        ("bash -c 'npm test && npm run lint'", ["npm test", "npm run lint"]),
        ("FOO=1 timeout 5 npm test", ["FOO=1 timeout 5 npm test"]),
        ("echo 'a;b' > out.txt", ["echo a;b > out.txt"]),
        ("git   status", ["git status"]),
        ("find . -exec rm {} \\;", ["rm {}", "find . -exec rm {} ;"]),
    ],
)
def test_parts_text(command: str, parts: list[str]) -> None:
    analysis = analyze(command)
    assert analysis.parsed
    assert [p.text for p in analysis.parts] == parts


@pytest.mark.parametrize(
    ("command", "core"),
    [
        ("FOO=1 timeout 5 npm test", "npm test"),
        ("nice -n 5 nohup make", "make"),
        ("env LANG=C git log", "git log"),
        ("PATH=. git log", "PATH=. git log"),  # a dangerous variable is kept
        ("xargs rm", "xargs rm"),  # xargs adds arguments: not stripped
        ("command -p ls -l", "ls -l"),
        ("ls > out.txt", "ls > out.txt"),
    ],
)
def test_parts_core_strips_only_harmless_wrappers(command: str, core: str) -> None:
    assert analyze(command).parts[-1].core == core


def test_redirection_into_a_file_is_marked_as_writing() -> None:
    (part,) = analyze("git diff > out.patch").parts
    assert part.writes
    (quiet,) = analyze("git diff 2>/dev/null").parts
    assert not quiet.writes


def test_a_line_that_does_not_parse_is_reported_as_such() -> None:
    analysis = analyze("echo 'x; rm -rf /")
    assert not analysis.parsed
    assert [p.risk for p in analysis.parts] == ["normal", "destructive"]


def test_deeply_nested_substitutions_do_not_recurse_forever() -> None:
    deep = "echo " + "$(" * 500 + "ls" + ")" * 500
    assert classify(deep) == "normal"
    nested_scripts = "bash -c " * 30 + "ls"
    assert classify(nested_scripts) in ("read_only", "normal")


def test_long_input_is_fast() -> None:
    line = "echo " + "a " * 20_000 + "; ls " + "x(){ " * 2000
    start = time.perf_counter()
    classify(line)
    assert time.perf_counter() - start < 2.0
