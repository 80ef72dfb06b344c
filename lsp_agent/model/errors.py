"""Typed model-server errors, each with a message that tells the user what to do.

No message may carry the API key: everything taken from the server (or from httpx) goes
through `scrub` first, because servers do echo keys back in their error bodies.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from lsp_agent.model.urls import scrub_url

REDACTED = "[redacted]"
_DETAIL_LIMIT = 300

# Lower-cased phrases that providers use when the prompt does not fit the context window.
_CONTEXT_PATTERNS = [
    re.compile(p)
    for p in (
        r"exceed_context_size_error",  # llama.cpp
        r"exceeds the available context size",  # llama.cpp
        r"context_length_exceeded",  # OpenAI code
        r"maximum context length",  # OpenAI, vLLM, Mistral, Groq
        r"context (length|window|size) (exceeded|is exceeded)",
        r"exceeds? (the )?(model'?s? )?(maximum )?context (length|window|size)",  # Ollama, others
        r"prompt is too long",  # Anthropic-compatible
        r"reduce the length of the messages",  # OpenAI, Groq
        r"input token count .* exceeds the maximum",  # Gemini
        r"max_new_tokens`? must be <=",  # TGI
    )
]


@dataclass(frozen=True)
class ErrorContext:
    """What error messages may mention; `secret` is scrubbed from all of it."""

    base_url: str
    model: str
    api_key_env: str
    secret: str | None = None

    def scrub(self, text: str) -> str:
        """`text` without the key, and with the base URL's credentials redacted."""
        return scrub_url(scrub(text, self.secret), self.base_url)


def scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, REDACTED)
    return text


class ModelError(Exception):
    """A model request failed; `str(error)` is meant for the user."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail  # the server's own message, scrubbed and trimmed

    def __str__(self) -> str:
        return self.message


class AuthError(ModelError):
    pass


class ModelNotFound(ModelError):
    pass


class RateLimited(ModelError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ModelError):
    retryable = True


class ContextTooLong(ModelError):
    def __init__(
        self, message: str, *, prompt_tokens: int | None = None, n_ctx: int | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx


class BadRequest(ModelError):
    pass


class ConnectError(ModelError):
    retryable = True


class StreamCut(ModelError):
    retryable = True


class MalformedStream(ModelError):
    pass


class CallTimeout(ModelError):
    """One call ran past model.callTimeoutS; retrying would likely take as long again."""


# --- building errors from responses ---------------------------------------------------


def trim(text: str, limit: int = _DETAIL_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def server_message(body: str) -> tuple[str, dict[str, Any]]:
    """The human part of an error body (`error.message`, `message`, `detail`, or the text)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body.strip(), {}
    if not isinstance(data, dict):
        return body.strip(), {}
    err = data.get("error", data)
    if isinstance(err, str):
        return err, data
    if isinstance(err, dict):
        for key in ("message", "detail", "msg"):
            if isinstance(err.get(key), str):
                return str(err[key]), err
    return body.strip(), err if isinstance(err, dict) else {}


def is_context_overflow(text: str) -> bool:
    low = text.lower()
    return any(p.search(low) for p in _CONTEXT_PATTERNS)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` in seconds, or as an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_status(
    status: int, body: str, headers: Mapping[str, str], ctx: ErrorContext
) -> ModelError:
    """The typed error for a non-200 answer."""
    raw_message, fields = server_message(body)
    detail = trim(ctx.scrub(raw_message)) or "no message"
    said = f"HTTP {status}: {detail}"
    kw: dict[str, Any] = {"status": status, "detail": detail}
    if status in (401, 403):
        return AuthError(
            f"The model server refused the credentials ({said}). Check the API key in the "
            f"{ctx.api_key_env} environment variable (setting model.apiKeyEnv) and that it may "
            f"use model '{ctx.model}'.",
            **kw,
        )
    if status == 404:
        return ModelNotFound(
            f"The model server has no model '{ctx.model}' or no such endpoint ({said}). "
            f"Check model.name and model.baseUrl ({ctx.scrub(ctx.base_url)}; it usually ends "
            f"in /v1).",
            **kw,
        )
    if status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"))
        quota = "insufficient_quota" in body or "quota" in raw_message.lower()
        err = RateLimited(
            f"The model server is rate-limiting requests ({said}). "
            + (
                "Check the account's quota or billing."
                if quota
                else "Wait a moment and try again, or send fewer requests."
            ),
            retry_after=retry_after,
            **kw,
        )
        err.retryable = not quota  # retrying an exhausted quota only burns time
        return err
    if status >= 500:
        return ServerError(
            f"The model server failed ({said}). Try again; if it keeps failing, check the "
            f"server's log.",
            **kw,
        )
    if status in (400, 413, 422) and is_context_overflow(raw_message + " " + body):
        return context_too_long(ctx, said, fields, **kw)
    return BadRequest(
        f"The model server rejected the request ({said}). Check model.name, "
        f"model.maxOutputTokens and the tools sent.",
        **kw,
    )


def context_too_long(
    ctx: ErrorContext, said: str, fields: Mapping[str, Any] | None = None, **kw: Any
) -> ContextTooLong:
    fields = fields or {}
    return ContextTooLong(
        f"The conversation no longer fits the model's context window ({said}). Compact or "
        f"start a new conversation, or give the server a larger context size.",
        prompt_tokens=_int(fields.get("n_prompt_tokens")),
        n_ctx=_int(fields.get("n_ctx")),
        **kw,
    )


def from_stream_error(payload: Any, ctx: ErrorContext) -> ModelError:
    """An error the server reported inside an SSE stream (`{"error": {...}}`)."""
    err = payload.get("error", payload) if isinstance(payload, dict) else payload
    code = err.get("code") if isinstance(err, dict) else None
    status = code if isinstance(code, int) and 400 <= code <= 599 else 500
    return from_status(status, json.dumps(payload), {}, ctx)
