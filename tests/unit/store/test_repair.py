"""repair(): every tool call answered exactly once, right after its assistant message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_agent.model.wire import AssistantMessage, Message, ToolMessage, UserMessage
from lsp_agent.store import INTERRUPTED, repair
from tests.unit.store.conftest import assistant, result


def interrupted(call_id: str) -> ToolMessage:
    return ToolMessage(tool_call_id=call_id, content=INTERRUPTED)


def test_valid_transcript_is_unchanged() -> None:
    valid: list[Message] = [
        UserMessage(content="go"),
        assistant("a", "b"),
        result("b"),
        result("a"),  # any order of results is fine
        AssistantMessage(content="done"),
    ]
    out = repair(valid)
    assert out == valid
    assert all(a is b for a, b in zip(out, valid, strict=True))


def test_dangling_calls_of_the_last_message_get_interrupted_results() -> None:
    messages: list[Message] = [UserMessage(content="go"), assistant("a", "b", "c"), result("b")]
    assert repair(messages) == [
        UserMessage(content="go"),
        assistant("a", "b", "c"),
        result("b"),
        interrupted("a"),
        interrupted("c"),
    ]
    assert len(messages) == 3  # the input is not modified


def test_earlier_dangling_calls_are_repaired_too() -> None:
    messages: list[Message] = [
        assistant("a"),
        UserMessage(content="continue"),
        assistant("b"),
        result("b"),
    ]
    assert repair(messages) == [
        assistant("a"),
        interrupted("a"),
        UserMessage(content="continue"),
        assistant("b"),
        result("b"),
    ]


def test_orphan_and_duplicate_results_are_dropped() -> None:
    messages: list[Message] = [
        result("before-anything"),
        UserMessage(content="go"),
        assistant("a"),
        result("a", "first"),
        result("a", "second"),
        result("unknown"),
        UserMessage(content="late"),
        result("a", "not adjacent"),
    ]
    assert repair(messages) == [
        UserMessage(content="go"),
        assistant("a"),
        result("a", "first"),
        UserMessage(content="late"),
    ]


def test_results_belong_to_the_closest_call_when_ids_repeat_across_turns() -> None:
    messages: list[Message] = [assistant("call_0"), result("call_0"), assistant("call_0")]
    assert repair(messages) == [*messages, interrupted("call_0")]


def test_repeated_ids_within_one_message_are_dropped() -> None:
    messages: list[Message] = [assistant("a", "a", "b"), result("a"), result("b")]
    assert repair(messages) == [assistant("a", "b"), result("a"), result("b")]


# --- property: any transcript comes out valid ---------------------------------------------

ids = st.sampled_from(["a", "b", "c", "d"])
message = st.one_of(
    st.builds(lambda t: UserMessage(content=t), st.text(max_size=3)),
    st.builds(lambda c: assistant(*c), st.lists(ids, max_size=4)),
    st.builds(lambda i: result(i, f"out {i}"), ids),
)


def assert_valid(messages: list[Message]) -> None:
    i = 0
    while i < len(messages):
        m = messages[i]
        assert not isinstance(m, ToolMessage), f"tool result at {i} follows no call"
        i += 1
        if isinstance(m, AssistantMessage) and m.tool_calls:
            calls = [c.id for c in m.tool_calls]
            assert len(set(calls)) == len(calls)
            answers = messages[i : i + len(calls)]
            assert all(isinstance(a, ToolMessage) for a in answers)
            assert sorted(a.tool_call_id for a in answers) == sorted(calls)  # type: ignore[union-attr]
            i += len(calls)


def skeleton(messages: list[Message]) -> list[tuple[str, object]]:
    """Everything but the tool results, with each message's call ids deduplicated."""
    out: list[tuple[str, object]] = []
    for m in messages:
        if isinstance(m, AssistantMessage):
            out.append(("assistant", list(dict.fromkeys(c.id for c in m.tool_calls or []))))
        elif not isinstance(m, ToolMessage):
            out.append((m.role, m.content))
    return out


@given(st.lists(message, max_size=25))
def test_repair_always_yields_a_valid_transcript(messages: list[Message]) -> None:
    out = repair(messages)
    assert_valid(out)
    assert repair(out) == out  # idempotent
    assert skeleton(out) == skeleton(messages)  # only tool results are added or dropped
    # Every result in the output is either a real one from the input or an added one.
    kept = {id(m) for m in messages}
    assert all(
        id(m) in kept or m == ToolMessage(tool_call_id=m.tool_call_id, content=INTERRUPTED)
        for m in out
        if isinstance(m, ToolMessage)
    )
