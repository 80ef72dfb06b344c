"""The compaction steps, one at a time: snipping tool outputs, where the summary cuts, and
how the summarized transcript is rebuilt."""

from __future__ import annotations

from lsp_agent.agent.compact import (
    SNIPPED,
    SUMMARY_OPEN,
    latest_request,
    rebuild,
    render,
    snip_tool_outputs,
    summary_cut,
    summary_request,
    to_summarize,
)
from lsp_agent.agent.tokens import TokenCounter
from lsp_agent.model.wire import (
    AssistantMessage,
    FunctionCall,
    Message,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
)

SYSTEM = SystemMessage(content="You are a test agent.")


def counter() -> TokenCounter:
    return TokenCounter("fake-model")  # no tiktoken encoding: the byte estimate


def call(call_id: str, name: str = "read_file", path: str = "a.py") -> ToolCall:
    return ToolCall(id=call_id, function=FunctionCall(name=name, arguments=f'{{"path":"{path}"}}'))


def assistant(*call_ids: str, content: str | None = None) -> AssistantMessage:
    calls = [call(i) for i in call_ids] or None
    return AssistantMessage(content=content, tool_calls=calls)


def result(call_id: str, content: str) -> ToolMessage:
    return ToolMessage(tool_call_id=call_id, content=content)


def is_snipped(message: Message) -> bool:
    return isinstance(message, ToolMessage) and message.content.startswith("[output removed")


def three_turns(size: int = 4000) -> list[Message]:
    """system, a request, then three assistant turns each reading a big file."""
    return [
        SYSTEM,
        UserMessage(content="fix the bug"),
        assistant("c1"),
        result("c1", "1" * size),
        assistant("c2"),
        result("c2", "2" * size),
        assistant("c3"),
        result("c3", "3" * size),
    ]


# --- snip_tool_outputs ------------------------------------------------------------------


def test_snip_replaces_the_oldest_outputs_first_and_stops_when_it_fits() -> None:
    history, c = three_turns(), counter()
    before = c.prompt(history, [])
    # Room for everything but about one output: only the oldest goes.
    goal = before - 900
    assert snip_tool_outputs(history, c, [], goal, keep_turns=1) == 1
    assert is_snipped(history[3]) and not is_snipped(history[5]) and not is_snipped(history[7])
    assert history[3] == ToolMessage(tool_call_id="c1", content=SNIPPED.format(chars=4000))
    assert c.prompt(history, []) <= goal


def test_snip_keeps_the_outputs_of_the_recent_turns_whole() -> None:
    history, c = three_turns(), counter()
    assert snip_tool_outputs(history, c, [], goal=0, keep_turns=2) == 1  # unreachable goal
    assert [is_snipped(history[i]) for i in (3, 5, 7)] == [True, False, False]

    history = three_turns()
    assert snip_tool_outputs(history, c, [], goal=0, keep_turns=1) == 2
    assert [is_snipped(history[i]) for i in (3, 5, 7)] == [True, True, False]


def test_snip_keeps_calls_ids_and_order() -> None:
    history, c = three_turns(), counter()
    snip_tool_outputs(history, c, [], goal=0, keep_turns=1)
    fresh = three_turns()
    assert [type(m) for m in history] == [type(m) for m in fresh]
    assert [getattr(m, "tool_call_id", None) for m in history] == [
        getattr(m, "tool_call_id", None) for m in fresh
    ]
    assert history[:3] == fresh[:3] and history[4] == fresh[4]


def test_snip_does_nothing_when_it_fits_or_an_output_is_shorter_than_the_note() -> None:
    history, c = three_turns(), counter()
    assert snip_tool_outputs(history, c, [], goal=10**6, keep_turns=1) == 0
    assert history == three_turns()

    short = three_turns(size=10)
    assert snip_tool_outputs(short, c, [], goal=0, keep_turns=1) == 0
    assert short == three_turns(size=10)


def test_snip_never_snips_twice() -> None:
    history, c = three_turns(), counter()
    snip_tool_outputs(history, c, [], goal=0, keep_turns=1)
    once = list(history)
    assert snip_tool_outputs(history, c, [], goal=0, keep_turns=1) == 0
    assert history == once


def test_snip_counts_the_tool_definitions() -> None:
    history, c = three_turns(), counter()
    specs: list[dict[str, object]] = [{"type": "function", "description": "x" * 20_000}]
    goal = c.prompt(history, [])  # fits without the specs, not with them
    assert snip_tool_outputs(history, c, specs, goal, keep_turns=1) == 2


# --- summary_cut, to_summarize --------------------------------------------------------------


def test_summary_cut_keeps_a_tail_that_starts_at_an_assistant_message() -> None:
    history, c = three_turns(size=400), counter()
    turn = c.message(history[6]) + c.message(history[7])
    cut = summary_cut(history, c, tail_budget=turn)
    assert cut == 6  # the last call and its result, nothing more
    assert summary_cut(history, c, tail_budget=2 * turn) == 4
    assert summary_cut(history, c, tail_budget=10**6) == 2  # everything after the request
    assert summary_cut(history, c, tail_budget=0) == len(history)  # nothing kept


def test_summary_cut_never_splits_a_call_from_its_results() -> None:
    history: list[Message] = [
        SYSTEM,
        UserMessage(content="go"),
        assistant("a", "b"),
        result("a", "x" * 200),
        result("b", "y" * 200),
    ]
    c = counter()
    # A budget that holds the last result but not the whole group: nothing can be kept.
    budget = c.message(history[4]) + 1
    assert summary_cut(history, c, tail_budget=budget) == len(history)


def test_summary_cut_only_looks_after_the_latest_request() -> None:
    history: list[Message] = [
        SYSTEM,
        UserMessage(content="first"),
        assistant(content="done"),
        UserMessage(content="second"),
    ]
    assert summary_cut(history, counter(), tail_budget=10**6) == len(history)
    assert to_summarize(history, len(history)) == history[1:]


def test_latest_request() -> None:
    assert latest_request([SYSTEM]) == -1
    assert latest_request(three_turns()) == 1


# --- rebuild ------------------------------------------------------------------------------


def test_rebuild_carries_the_summary_in_the_latest_request() -> None:
    history = three_turns(size=100)
    rebuilt = rebuild(history, 6, "- read two files")
    assert rebuilt[0] is SYSTEM
    carried = rebuilt[1]
    assert isinstance(carried, UserMessage)
    assert carried.content.startswith(SUMMARY_OPEN)
    assert "- read two files" in carried.content
    assert carried.content.endswith("\n\nfix the bug")
    assert rebuilt[2:] == history[6:]


def test_a_second_compaction_replaces_the_first_summary() -> None:
    first = rebuild(three_turns(size=100), 6, "SUMMARY-ONE")
    later = [
        *first,
        assistant(content="done"),
        UserMessage(content="now the tests"),
        assistant("c9"),
        result("c9", "z" * 100),
    ]
    second = rebuild(later, len(later), "SUMMARY-TWO")
    assert len(second) == 2
    text = second[1].content or ""
    assert text.count(SUMMARY_OPEN) == 1 and "SUMMARY-ONE" not in text
    assert "SUMMARY-TWO" in text and text.endswith("\n\nnow the tests")

    # Compacting when the carried message is itself the latest request: still one summary,
    # and the original request text survives.
    again = rebuild(first, len(first), "SUMMARY-THREE")
    text = again[1].content or ""
    assert text.count(SUMMARY_OPEN) == 1 and "SUMMARY-ONE" not in text
    assert text.endswith("\n\nfix the bug")


def test_summary_request_has_its_own_system_prompt_and_the_transcript() -> None:
    request = summary_request(three_turns(size=50)[1:], limit_chars=10_000)
    assert [m.role for m in request] == ["system", "user"]
    assert "compact" in (request[0].content or "").lower()
    body = request[1].content or ""
    assert "USER: fix the bug" in body and "TOOL CALL read_file" in body
    assert "TOOL RESULT: " + "1" * 50 in body


def test_render_keeps_the_newest_part_when_too_long() -> None:
    text = render(three_turns(size=1000)[1:], limit_chars=1500)
    assert len(text) <= 1501 and text.startswith("…")
    assert "3" * 500 in text and "1" * 10 not in text
