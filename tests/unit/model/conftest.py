"""Helpers for the model-client tests: clients pointed at the fake server."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from lsp_agent.config import ModelSettings
from lsp_agent.model.client import ModelClient
from lsp_agent.model.wire import Message, ModelEvent, UserMessage
from tests.fakes.model_server import FakeModelServer

KEY = "sk-test-SECRET-0123456789abcdef"
HELLO: list[Message] = [UserMessage(content="hi")]

MakeClient = Callable[..., ModelClient]


@pytest.fixture
async def make_client(model_server: FakeModelServer) -> AsyncIterator[MakeClient]:
    """`make_client(stream=False, ...)`: a client for the fake server; closed afterwards."""
    made: list[ModelClient] = []

    def make(*, api_key: str | None = KEY, **overrides: Any) -> ModelClient:
        fields: dict[str, Any] = {"base_url": model_server.base_url, "name": "fake-model"}
        fields.update(overrides)
        client = ModelClient(
            ModelSettings(**fields), api_key, backoff_base_s=0.01, rng=random.Random(7)
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def collect(
    client: ModelClient,
    messages: list[Message] | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> list[ModelEvent]:
    return [e async for e in client.turn(messages or HELLO, tools or [])]
