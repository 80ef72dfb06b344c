"""The model side: an OpenAI-compatible chat-completions client and its wire types.

`ModelClient` (and with it httpx) is imported on first use: the wire types are needed by
commands that never talk to a model."""

from typing import TYPE_CHECKING, Any

from lsp_agent.model.errors import (
    AuthError,
    BadRequest,
    ConnectError,
    ContextTooLong,
    MalformedStream,
    ModelError,
    ModelNotFound,
    RateLimited,
    ServerError,
    StreamCut,
)

if TYPE_CHECKING:
    from lsp_agent.model.client import ModelClient


def __getattr__(name: str) -> Any:
    if name == "ModelClient":
        from lsp_agent.model.client import ModelClient

        return ModelClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuthError",
    "BadRequest",
    "ConnectError",
    "ContextTooLong",
    "MalformedStream",
    "ModelClient",
    "ModelError",
    "ModelNotFound",
    "RateLimited",
    "ServerError",
    "StreamCut",
]
