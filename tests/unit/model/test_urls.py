"""Base URLs: endpoints keep the query; credentials never show in messages."""

from __future__ import annotations

from lsp_agent.model.errors import ErrorContext
from lsp_agent.model.urls import endpoint, redacted_url, url_secrets, without_v1

URL = "http://user1:pass-word@h:8/v1?key=abc123&API_KEY=x%2Fsecret&flag"


def test_endpoint_puts_the_path_before_the_query() -> None:
    assert endpoint("http://h/v1/", "models") == "http://h/v1/models"
    assert endpoint(URL, "models").startswith("http://user1:pass-word@h:8/v1/models?key=abc123")
    assert without_v1(URL) == "http://user1:pass-word@h:8?key=abc123&API_KEY=x%2Fsecret&flag"


def test_redacted_url_hides_userinfo_and_every_query_value() -> None:
    shown = redacted_url(URL)
    assert shown == "http://[redacted]@h:8/v1?key=[redacted]&API_KEY=[redacted]&flag"
    assert redacted_url("http://h/v1") == "http://h/v1"
    assert {"abc123", "pass-word", "x/secret", "x%2Fsecret"} <= set(url_secrets(URL))


def test_error_context_scrubs_the_url_and_its_values_anywhere() -> None:
    ctx = ErrorContext(URL, "m", "OPENAI_API_KEY", "sk-the-api-key")
    text = ctx.scrub(f"GET {endpoint(URL, 'models')} failed; key abc123, sk-the-api-key")
    for secret in ("user1", "pass-word", "abc123", "x%2Fsecret", "sk-the-api-key"):
        assert secret not in text
    assert "h:8/v1/models" in text
