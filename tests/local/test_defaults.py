"""With nothing configured: the only cached local model, the server at the default URL, or
one message naming the three ways to get a model."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from lsp_agent.config import Settings, validate
from lsp_agent.local import defaults
from lsp_agent.local.defaults import NotConfigured, pick_default, unconfigured
from tests.local.helpers import fake_hub_entry


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that nothing listens on (bound, never listening)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def nothing_set(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> Settings:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # The default base URL, pointed at a closed port: the test must not depend on 8080.
    default = Settings().model.base_url
    monkeypatch.setattr(
        defaults, "reachable", _closed_only(default.replace("8080", str(closed_port)))
    )
    return Settings()


def _closed_only(url: str) -> Callable[[str, float], Awaitable[bool]]:
    """A probe that asks `url` whatever it is asked about."""
    real = defaults.reachable

    async def probe(_base_url: str, timeout_s: float = 0.5) -> bool:
        return await real(url, timeout_s)

    return probe


def test_what_counts_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert unconfigured(Settings())
    assert not unconfigured(validate({"model": {"baseUrl": "http://127.0.0.1:8080/v1"}}))
    assert not unconfigured(validate({"model": {"provider": "local"}}))
    assert not unconfigured(Settings(), {"OPENAI_API_KEY": "sk-1"})


async def test_one_message_says_the_three_ways(hub: Path, nothing_set: Settings) -> None:
    with pytest.raises(NotConfigured) as caught:
        await pick_default(nothing_set)
    message = str(caught.value)
    assert "start a local OpenAI-compatible server" in message
    assert "pip install 'lsp-agent[local]'" in message and "models pull" in message
    assert "OPENAI_API_KEY" in message and "--base-url" in message


async def test_the_only_cached_model_is_used_and_named(hub: Path, nothing_set: Settings) -> None:
    entry = fake_hub_entry(hub, "org/tiny-GGUF", "tiny.gguf", b"GGUF")
    settings, notice = await pick_default(nothing_set)
    assert settings.model.provider == "local"
    assert settings.model.path == str(entry)
    assert notice is not None and "org/tiny-GGUF:tiny.gguf" in notice


async def test_two_cached_models_are_not_guessed_between(hub: Path, nothing_set: Settings) -> None:
    fake_hub_entry(hub, "org/a-GGUF", "a.gguf", b"GGUF")
    fake_hub_entry(hub, "org/b-GGUF", "b.gguf", b"GGUF")
    with pytest.raises(NotConfigured):
        await pick_default(nothing_set)


async def test_a_configured_model_is_left_alone(hub: Path) -> None:
    fake_hub_entry(hub, "org/tiny-GGUF", "tiny.gguf", b"GGUF")
    configured = validate({"model": {"baseUrl": "http://127.0.0.1:1/v1"}})
    assert await pick_default(configured) == (configured, None)


async def test_a_server_at_the_default_url_is_used(
    hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        monkeypatch.setattr(defaults, "reachable", _closed_only(f"http://127.0.0.1:{port}/v1"))
        settings, notice = await pick_default(Settings())
    assert (settings, notice) == (Settings(), None)
