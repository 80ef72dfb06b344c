from __future__ import annotations

from lsp_agent.model.sse import SSEEvent, SSEParser


def parse(text: str) -> list[SSEEvent]:
    parser = SSEParser()
    out = [e for line in text.split("\n") if (e := parser.feed(line)) is not None]
    last = parser.flush()
    return [*out, last] if last else out


def test_data_with_and_without_space() -> None:
    assert parse('data: {"a":1}\n\ndata:{"b":2}\n\n') == [SSEEvent('{"a":1}'), SSEEvent('{"b":2}')]


def test_only_one_leading_space_is_removed() -> None:
    assert parse("data:  x\n\n") == [SSEEvent(" x")]


def test_comments_and_blank_lines_are_skipped() -> None:
    assert parse(": keep-alive\n\n\n\ndata: [DONE]\n\n") == [SSEEvent("[DONE]")]


def test_multi_line_data_is_joined() -> None:
    assert parse('data: {\ndata: "a": 1}\n\n') == [SSEEvent('{\n"a": 1}')]


def test_last_event_without_blank_line() -> None:
    assert parse("data: one\n\ndata: two") == [SSEEvent("one"), SSEEvent("two")]


def test_event_and_error_fields() -> None:
    assert parse("event: ping\ndata: x\n\nerror: {}\n\nid: 3\nretry: 5\ndata: y\n\n") == [
        SSEEvent("x", "ping"),
        SSEEvent("{}", "error"),
        SSEEvent("y"),
    ]


def test_carriage_returns_are_stripped() -> None:
    assert parse("data: x\r\n\r\n") == [SSEEvent("x")]


def test_saw_anything() -> None:
    parser = SSEParser()
    parser.feed("")
    assert not parser.saw_anything
    parser.feed(": hi")
    assert parser.saw_anything
