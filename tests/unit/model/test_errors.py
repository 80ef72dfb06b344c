from __future__ import annotations

import email.utils

import pytest

from lsp_agent.model import errors

CTX = errors.ErrorContext("http://h/v1", "m", "MY_KEY", secret="s3cret")


@pytest.mark.parametrize(
    "message",
    [
        "request (7534 tokens) exceeds the available context size (4096 tokens)",
        "This model's maximum context length is 4096 tokens. However, you requested 5000",
        "Please reduce the length of the messages or completion.",
        "prompt is too long: 210000 tokens > 200000 maximum",
        "the input length exceeds the context length",
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096",
    ],
)
def test_context_overflow_messages(message: str) -> None:
    err = errors.from_status(400, f'{{"error": {{"message": "{message}"}}}}', {}, CTX)
    assert isinstance(err, errors.ContextTooLong)


def test_other_400_is_bad_request() -> None:
    err = errors.from_status(400, '{"error": {"message": "max_tokens is too large"}}', {}, CTX)
    assert type(err) is errors.BadRequest
    assert "max_tokens is too large" in str(err)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"error": {"message": "a"}}', "a"),
        ('{"error": "b"}', "b"),
        ('{"detail": "c"}', "c"),
        ("plain  text\n", "plain text"),
        ("", "no message"),
    ],
)
def test_server_message_shapes(body: str, detail: str) -> None:
    assert errors.from_status(500, body, {}, CTX).detail == detail


def test_long_messages_are_trimmed_and_scrubbed() -> None:
    err = errors.from_status(500, "s3cret " + "x" * 1000, {}, CTX)
    assert "s3cret" not in str(err) and errors.REDACTED in str(err)
    assert len(err.detail) <= 300


def test_retry_after_seconds_and_dates() -> None:
    assert errors.parse_retry_after("7") == 7.0
    assert errors.parse_retry_after("-3") == 0.0
    assert errors.parse_retry_after(None) is None
    assert errors.parse_retry_after("soon") is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert errors.parse_retry_after(date, now=1_000_000) == pytest.approx(30)


def test_rate_limit_error() -> None:
    err = errors.from_status(429, "{}", {"retry-after": "2"}, CTX)
    assert isinstance(err, errors.RateLimited) and err.retryable and err.retry_after == 2


def test_stream_error_payload_uses_its_code() -> None:
    assert isinstance(errors.from_stream_error({"error": {"code": 401}}, CTX), errors.AuthError)
    assert isinstance(errors.from_stream_error({"error": {"code": "x"}}, CTX), errors.ServerError)


def test_retryable_kinds() -> None:
    retryable = {errors.RateLimited, errors.ServerError, errors.ConnectError, errors.StreamCut}
    for kind in errors.ModelError.__subclasses__():
        assert kind("m").retryable == (kind in retryable), kind
