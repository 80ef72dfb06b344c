from __future__ import annotations

import itertools

import pytest

from lsp_agent.model.assemble import ToolCallAssembler, normalize_finish
from lsp_agent.model.wire import FunctionCall, ToolCall


def ids() -> ToolCallAssembler:
    counter = itertools.count()
    return ToolCallAssembler(lambda: f"gen_{next(counter)}")


def fn(
    index: int | None = 0, name: str | None = None, args: str | None = None, **kw: object
) -> dict[str, object]:
    f: dict[str, object] = {}
    if name is not None:
        f["name"] = name
    if args is not None:
        f["arguments"] = args
    d: dict[str, object] = {"function": f, **kw}
    if index is not None:
        d["index"] = index
    return d


def assemble(*deltas: list[dict[str, object]]) -> list[ToolCall]:
    a = ids()
    for d in deltas:
        a.feed(d)
    return a.calls()


def call(id: str, name: str, args: str) -> ToolCall:
    return ToolCall(id=id, function=FunctionCall(name=name, arguments=args))


def test_name_once_then_fragments() -> None:
    got = assemble([fn(name="read", args="", id="c")], [fn(args='{"a"')], [fn(args=": 1}")])
    assert got == [call("c", "read", '{"a": 1}')]


def test_repeated_name_and_id_are_not_appended() -> None:
    got = assemble(
        [fn(name="read", args="", id="c")],
        [fn(name="read", args="{}", id="c")],
        [fn(name="read", args="", id="c")],
    )
    assert got == [call("c", "read", "{}")]


def test_name_split_across_deltas_is_joined() -> None:
    got = assemble([fn(name="read", id="c")], [fn(name="_file")], [fn(args="{}")])
    assert got == [call("c", "read_file", "{}")]


def test_cumulative_name_is_replaced() -> None:
    got = assemble([fn(name="read", id="c")], [fn(name="read_file")], [fn(args="{}")])
    assert got == [call("c", "read_file", "{}")]


def test_name_after_arguments_started_is_ignored() -> None:
    got = assemble([fn(name="read", id="c", args="{")], [fn(name="other", args="}")])
    assert got == [call("c", "read", "{}")]


def test_parallel_by_index_and_missing_ids() -> None:
    got = assemble(
        [fn(0, name="a", args=""), fn(1, name="b", args="")],
        [fn(1, args="[1]")],
        [fn(0, args="[0]")],
    )
    assert got == [call("gen_0", "a", "[0]"), call("gen_1", "b", "[1]")]


def test_no_index_uses_ids() -> None:
    got = assemble([fn(None, name="a", id="x", args="1")], [fn(None, name="b", id="y", args="2")])
    assert [(c.id, c.function.name) for c in got] == [("x", "a"), ("y", "b")]


def test_object_arguments_are_dumped() -> None:
    a = ids()
    a.feed([{"index": 0, "id": "c", "function": {"name": "f", "arguments": {"k": 1}}}])
    assert a.calls() == [call("c", "f", '{"k": 1}')]


def test_nameless_call_is_dropped_and_events_report_what_each_delta_added() -> None:
    a = ids()
    assert a.feed([fn(3, args="{}")]) == []
    events = a.feed([fn(0, name="f", id="c", args="{")]) + a.feed([fn(0, args="}")])
    assert [(e.id, e.name, e.arguments) for e in events] == [("c", "f", "{"), ("c", "f", "}")]
    assert a.calls() == [call("c", "f", "{}")]


@pytest.mark.parametrize(
    ("raw", "calls", "want"),
    [
        ("stop", False, "stop"),
        ("stop", True, "tool_calls"),
        ("length", True, "length"),
        ("tool_calls", True, "tool_calls"),
        ("function_call", True, "tool_calls"),
        ("content_filter", False, "content_filter"),
        ("eos", False, "stop"),
        ("weird", False, "other"),
        (None, False, "stop"),
        (None, True, "tool_calls"),
    ],
)
def test_normalize_finish(raw: str | None, calls: bool, want: str) -> None:
    assert normalize_finish(raw, calls) == want
