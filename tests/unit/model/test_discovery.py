"""`list_models()` and `context_window()` against the fake server."""

from __future__ import annotations

import socket

import pytest

from lsp_agent.model import errors
from tests.fakes.model_server import FakeModelServer, error_reply, json_reply

from .conftest import KEY, MakeClient


async def test_list_models(model_server: FakeModelServer, make_client: MakeClient) -> None:
    model_server.models = ["a", "b"]
    assert await make_client().list_models() == ["a", "b"]
    (request,) = model_server.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, errors.AuthError), (404, errors.ModelNotFound), (503, errors.ServerError)],
)
async def test_list_models_errors(
    model_server: FakeModelServer,
    make_client: MakeClient,
    status: int,
    kind: type[errors.ModelError],
) -> None:
    model_server.routes[("GET", "/models")] = error_reply(status, "nope")
    with pytest.raises(kind):
        await make_client().list_models()


async def test_context_window_from_llama_cpp_props(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.n_ctx = 8192
    assert await make_client().context_window() == 8192
    assert model_server.requests[0].path == "/props"  # the server root, not /v1


async def test_context_window_top_level_n_ctx(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.routes[("GET", "/props")] = json_reply({"n_ctx": 2048})
    assert await make_client().context_window() == 2048


async def test_context_window_from_vllm_models(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.routes[("GET", "/props")] = error_reply(404, "Not Found")
    models = {"data": [{"id": "other", "max_model_len": 1}, {"id": "m", "max_model_len": 32768}]}
    model_server.routes[("GET", "/models")] = json_reply(models)
    assert await make_client(name="m").context_window() == 32768


async def test_context_window_unknown(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.n_ctx = None
    assert await make_client().context_window() is None
    assert [r.path for r in model_server.requests] == ["/props", "/v1/models"]


async def test_context_window_from_settings_asks_nobody(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    assert await make_client(context_window=1000).context_window() == 1000
    assert model_server.requests == []


async def test_context_window_unreachable_is_none(make_client: MakeClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1")
    assert await client.context_window() is None


async def test_context_window_garbage_is_none(
    model_server: FakeModelServer, make_client: MakeClient
) -> None:
    model_server.routes[("GET", "/props")] = json_reply(["not", "a", "dict"])
    model_server.routes[("GET", "/models")] = json_reply({"data": "nope"})
    assert await make_client().context_window() is None
