"""The model side: an OpenAI-compatible chat-completions client and its wire types."""

from lsp_agent.model.client import ModelClient
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
