"""The request body is assembled from each message's cached JSON and the longest prefix
already joined: it must always equal a fresh encoding of exactly what is sent."""

from __future__ import annotations

import json

from lsp_agent.model.wire import (
    AssistantMessage,
    FunctionCall,
    HistoryJSON,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
    to_wire,
)


def fresh(messages: list) -> list:
    return [json.loads(json.dumps(d)) for d in to_wire(messages)]


def test_growing_history_matches_a_fresh_encoding() -> None:
    history = HistoryJSON()
    messages: list = [SystemMessage(content="sys"), UserMessage(content='héllo \u2028 "q"')]
    assert json.loads(history.encode(messages)) == fresh(messages)
    for n in range(5):
        call = ToolCall(id=f"c{n}", function=FunctionCall(name="read_file", arguments="{}"))
        messages.append(AssistantMessage(tool_calls=[call]))
        messages.append(ToolMessage(tool_call_id=f"c{n}", content=f"out {n}\n"))
        assert json.loads(history.encode(messages)) == fresh(messages)


def test_a_replaced_message_in_the_middle_is_sent_as_replaced() -> None:
    # Compaction snips old tool outputs by replacing the message in the same list.
    history = HistoryJSON()
    messages: list = [SystemMessage(content="sys"), UserMessage(content="u")]
    messages += [ToolMessage(tool_call_id="a", content="long output " * 50)]
    messages += [UserMessage(content="next")]
    history.encode(messages)
    messages[2] = ToolMessage(tool_call_id="a", content="[output removed]")
    assert json.loads(history.encode(messages))[2]["content"] == "[output removed]"
    shorter = messages[:1] + messages[3:]  # a summary rebuilds the list
    assert json.loads(history.encode(shorter)) == fresh(shorter)


def test_lone_surrogates_become_replacement_characters() -> None:
    # Strict servers (serde_json, Go) reject an escaped lone surrogate; U+FFFD always parses.
    text = HistoryJSON().encode([UserMessage(content="bad \ud800 text")])
    assert text.isascii() and "\\ud800" not in text
    assert json.loads(text)[0]["content"] == "bad \ufffd text"
