"""The gate: anything but an explicit allow is a deny; "allow always" is remembered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lsp_agent.permissions import Decision, PermissionRequest, Verdict
from tests.unit.test_permissions import Gate, edit, perms, request, run

# --- the gate: fail closed ------------------------------------------------------------------


async def test_allowed_and_denied_calls_never_reach_the_gate() -> None:
    gate = Gate()
    p = perms("accept-edits", deny=["bash(rm *)"], gate=gate)
    assert (await p.check(run("ls"))).allowed
    assert not (await p.check(run("rm x"))).allowed
    assert (await p.check(request("read", "a.py"))).allowed
    assert gate.asked == []


async def test_asks_the_gate_with_the_request() -> None:
    gate = Gate("allow_once")
    req = run("npm install")
    verdict = await perms("ask", gate=gate).check(req)
    assert verdict.allowed
    (asked,) = gate.asked  # the request, with what the prompt must show filled in
    assert asked.model_copy(update={"reason": None, "asked_parts": [], "always": None}) == req
    assert asked.reason == "ask mode" and asked.asked_parts == ["npm install"]
    assert asked.always == "bash(npm install)"


async def test_no_gate_denies() -> None:
    verdict = await perms("ask").check(run("npm install"))
    assert not verdict.allowed
    assert "`npm install`" in verdict.reason
    assert "no one to ask" in verdict.reason


async def test_user_rejection_is_explained_to_the_model() -> None:
    verdict = await perms("ask", gate=Gate("reject")).check(run("rm -rf build"))
    assert verdict == Verdict(
        False,
        "The user denied permission to run `rm -rf build`. Do not retry it; ask the user or "
        "choose another approach.",
    )
    edit_verdict = await perms("ask", gate=Gate("reject")).check(edit("src/a.py"))
    assert edit_verdict.reason.startswith("The user denied permission to edit `src/a.py`.")


class _LooksLikeAllow:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class _StrSubclass(str):
    pass


@pytest.mark.parametrize(
    "answer",
    [
        "reject",
        "yes",
        "ALLOW_ONCE",
        "allow_once ",
        "",
        None,
        1,
        True,
        _LooksLikeAllow(),
        _StrSubclass("allow_once"),
        ["allow_once"],
    ],
    ids=repr,
)
async def test_anything_but_an_allow_is_a_deny(answer: Any) -> None:
    gate = Gate(answer)
    p = perms("ask", gate=gate)
    verdict = await p.check(run("npm install"))
    assert not verdict.allowed
    assert len(gate.asked) == 1
    assert p.remembered_rules() == []


@pytest.mark.parametrize("error", [RuntimeError("tty gone"), OSError(5, "EIO"), ValueError()])
async def test_a_failing_gate_denies(error: Exception) -> None:
    verdict = await perms("ask", gate=Gate(error)).check(run("npm install"))
    assert not verdict.allowed
    assert "failed" in verdict.reason


async def test_cancellation_while_asking_propagates() -> None:
    started = asyncio.Event()

    class Waiting:
        async def ask(self, request: PermissionRequest) -> Decision:
            started.set()
            await asyncio.Event().wait()
            return "allow_once"

    task = asyncio.create_task(perms("ask", gate=Waiting()).check(run("npm install")))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_gate_raising_cancelled_error_propagates() -> None:
    with pytest.raises(asyncio.CancelledError):
        await perms("ask", gate=Gate(asyncio.CancelledError())).check(run("npm install"))


async def test_keyboard_interrupt_is_not_swallowed() -> None:
    with pytest.raises(KeyboardInterrupt):
        await perms("ask", gate=Gate(KeyboardInterrupt())).check(run("npm install"))


# --- allow_always: session memory ---------------------------------------------------------


async def test_allow_once_is_not_remembered() -> None:
    gate = Gate("allow_once")
    p = perms("ask", gate=gate)
    assert (await p.check(run("npm test"))).allowed
    assert (await p.check(run("npm test"))).allowed
    assert len(gate.asked) == 2
    assert p.remembered_rules() == []


async def test_always_for_an_edit_allows_edits_in_the_workspace() -> None:
    gate = Gate("allow_always")
    p = perms("ask", gate=gate)
    assert (await p.check(edit("src/a.py"))).allowed
    assert p.remembered_rules() == ["edit(**)"]
    gate.answer = "reject"
    assert (await p.check(edit("lib/other.py"))).allowed
    assert (await p.check(edit("/ws/deep/x.txt"))).allowed
    assert len(gate.asked) == 1
    assert not (await p.check(edit("/etc/passwd"))).allowed  # outside: asked again
    assert not (await p.check(edit(".git/config"))).allowed  # sensitive: asked again
    assert len(gate.asked) == 3
    assert p.decide(run("npm test")) == "ask"  # edits only


async def test_always_for_a_command_remembers_its_prefix() -> None:
    gate = Gate("allow_always")
    p = perms("ask", gate=gate)
    assert (await p.check(run("npm test -- -x"))).allowed
    assert p.remembered_rules() == ["bash(npm test:*)"]
    assert p.decide(run("npm test")) == "allow"
    assert p.decide(run("npm test --coverage")) == "allow"
    assert p.decide(run("npm install")) == "ask"
    assert p.decide(run("npm test; rm -rf /")) == "ask"
    assert p.decide(edit("a.py")) == "ask"


async def test_always_for_a_destructive_command_remembers_it_exactly() -> None:
    p = perms("auto", gate=Gate("allow_always"))
    assert (await p.check(run("rm -rf build"))).allowed
    assert p.remembered_rules() == ["bash(rm -rf build)"]
    assert p.decide(run("rm -rf build")) == "allow"
    assert p.decide(run("rm -rf build/sub")) == "ask"
    assert p.decide(run("rm -rf src")) == "ask"


async def test_a_remembered_prefix_does_not_cover_destructive_variants() -> None:
    p = perms("ask", gate=Gate("allow_always"))
    assert (await p.check(run("git push origin main"))).allowed
    assert p.remembered_rules() == ["bash(git push:*)"]
    assert p.decide(run("git push origin feature")) == "allow"
    assert p.decide(run("git push --force origin main")) == "ask"


async def test_always_for_a_compound_remembers_the_parts_that_were_asked() -> None:
    p = perms("accept-edits", gate=Gate("allow_always"))
    assert (await p.check(run("cd sub && npm install && git commit -m 'x'"))).allowed
    assert p.remembered_rules() == ["bash(npm install)", "bash(git commit:*)"]
    assert p.decide(run("npm install")) == "allow"
    assert p.decide(run("npm install left-pad")) == "ask"  # runs that package's scripts
    assert p.decide(run("git commit --amend")) == "allow"


async def test_always_for_an_unparsed_line_remembers_it_exactly() -> None:
    line = "npm run x 'unbalanced"
    p = perms("ask", gate=Gate("allow_always"))
    assert (await p.check(run(line))).allowed
    assert p.remembered_rules() == [f"bash({line})"]
    assert p.decide(run(line)) == "allow"
    assert p.decide(run("npm run y 'unbalanced")) == "ask"


async def test_remembered_rules_are_not_repeated() -> None:
    p = perms("ask", gate=Gate("allow_always"))
    await p.check(run("npm test"))
    await p.check(run("npm test && npm test -x"))
    assert p.remembered_rules() == ["bash(npm test:*)"]


async def test_memory_lasts_for_one_permissions_object() -> None:
    first = perms("ask", gate=Gate("allow_always"))
    await first.check(run("npm test"))
    await first.check(edit("a.py"))
    assert perms("ask").decide(run("npm test")) == "ask"
    assert perms("ask").decide(edit("a.py")) == "ask"


async def test_deny_rules_still_win_over_remembered_rules() -> None:
    p = perms("ask", deny=["bash(npm test --bad*)"], gate=Gate("allow_always"))
    await p.check(run("npm test"))
    assert p.decide(run("npm test --bad")) == "deny"
