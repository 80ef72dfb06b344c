"""Token counts come from the official encodings shipped in the package, offline."""

import socket

import pytest

from lsp_agent.agent.tokens import TokenCounter, encoding_for, known_window, load_encoding
from lsp_agent.model.wire import (
    AssistantMessage,
    FunctionCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UserMessage,
)

# Token ids published by the official o200k_base and cl100k_base vocabularies.
SAMPLES = {
    "o200k_base": {
        "hello world": [24912, 2375],
        "def f(x):\n    return x * 2\n": [1314, 285, 4061, 1883, 271, 622, 1215, 425, 220, 17, 198],
        "naïve café — 日本語": [1503, 9954, 737, 30469, 2733, 17428, 40909],
    },
    "cl100k_base": {
        "hello world": [15339, 1917],
        "def f(x):\n    return x * 2\n": [755, 282, 2120, 997, 262, 471, 865, 353, 220, 17, 198],
        "naïve café — 日本語": [3458, 38672, 588, 53050, 2001, 76502, 22656, 45918, 252],
    },
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("token counting tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_shipped_encodings_match_official_ids(name: str, no_network: None) -> None:
    encoding = load_encoding(name)
    assert encoding.name == name
    for text, ids in SAMPLES[name].items():
        assert encoding.encode(text) == ids


async def test_counter_counts_exactly_after_load(no_network: None) -> None:
    counter = TokenCounter("gpt-4o")
    assert not counter.exact
    await counter.load()
    assert counter.exact
    for text, ids in SAMPLES["o200k_base"].items():
        assert counter.text(text) == len(ids)


def test_encoding_by_model_name() -> None:
    assert encoding_for("gpt-4o-mini") == "o200k_base"
    assert encoding_for("openai/gpt-4.1") == "o200k_base"
    assert encoding_for("gpt-4") == "cl100k_base"
    assert encoding_for("qwen2.5-coder-0.5b") is None


def test_unknown_tokenizer_estimates_and_calibrates() -> None:
    counter = TokenCounter("qwen2.5-coder")
    messages = [SystemMessage(content="x" * 360), UserMessage(content="y" * 720)]
    first = counter.prompt(messages, [])
    assert first == 4 + 100 + 4 + 200 + 3
    counter.calibrate(messages, [], actual=first * 2)
    assert counter.prompt(messages, []) == first * 2


def test_tool_definitions_and_calls_are_counted() -> None:
    counter = TokenCounter("unknown")
    spec = [{"type": "function", "function": {"name": "read_file", "parameters": {}}}]
    assert counter.tools(spec) > 0
    call = ToolCall(id="c1", function=FunctionCall(name="read_file", arguments='{"path":"a"}'))
    with_call = counter.message(AssistantMessage(content=None, tool_calls=[call]))
    assert with_call > counter.message(AssistantMessage(content=None))
    assert counter.message(ToolMessage(tool_call_id="c1", content="z" * 36)) >= 14


def test_known_windows() -> None:
    assert known_window("gpt-4o-mini") == 128_000
    assert known_window("my-local-model") is None


def test_prefix_counts_follow_replacements_and_shrinking() -> None:
    from lsp_agent.model.wire import ToolMessage, UserMessage

    counter = TokenCounter("unknown-model")
    messages: list = [
        UserMessage(content="x" * 400),
        ToolMessage(tool_call_id="a", content="y" * 4000),
    ]
    messages.append(UserMessage(content="z" * 40))
    full = counter.messages(messages)
    assert full == sum(counter.message(m) for m in messages)
    messages[1] = ToolMessage(tool_call_id="a", content="[output removed]")
    snipped = counter.messages(messages)
    assert snipped == sum(counter.message(m) for m in messages) < full
    assert counter.messages(messages[:1]) == counter.message(messages[0])
    messages.append(UserMessage(content="more"))
    assert counter.messages(messages) == sum(counter.message(m) for m in messages)
