"""What to do when no model is configured at all (no base URL, no key, no provider).

If exactly one local model is cached (and llama.cpp is installed), use it and say so. Else,
if something answers at the default base URL, use it as before. Else one message says
the three ways to get a model.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from lsp_agent.config import Settings
from lsp_agent.local import cache
from lsp_agent.local.provider import xllamacpp_installed

PROBE_S = 0.5


def setup_message(base_url: str) -> str:
    return (
        f"no model is configured, and nothing answers at the default {base_url}. Either:\n"
        "  - start a local OpenAI-compatible server (llama.cpp, Ollama, LM Studio, vLLM) "
        "and pass --base-url http://127.0.0.1:PORT/v1 (or set model.baseUrl);\n"
        "  - or let lsp-agent run one: pip install 'lsp-agent[local]', then "
        "`lsp-agent models pull REPO:FILE` (see `lsp-agent models list --recommended`), "
        "or pass --model local:PATH.gguf;\n"
        "  - or use a hosted endpoint: export OPENAI_API_KEY=... and pass "
        "--base-url https://api.openai.com/v1 --model NAME."
    )


class NotConfigured(Exception):
    """No model can be found; the message is `setup_message`."""


def unconfigured(settings: Settings, environ: Mapping[str, str] | None = None) -> bool:
    model = settings.model
    return (
        model.provider == "openai"
        and "base_url" not in model.model_fields_set
        and not settings.api_key(os.environ if environ is None else environ)
    )


async def reachable(base_url: str, timeout_s: float = PROBE_S) -> bool:
    """Whether something accepts a TCP connection at the URL's host and port."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", port), timeout_s
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def pick_default(settings: Settings, hub: Path | None = None) -> tuple[Settings, str | None]:
    """The settings to run with, and a notice to show; raises NotConfigured."""
    if not unconfigured(settings):
        return settings, None
    if xllamacpp_installed():
        models = await asyncio.to_thread(cache.list_models, hub)
        if len(models) == 1:
            only = models[0]
            model = settings.model.model_copy(update={"provider": "local", "path": str(only.path)})
            notice = (
                f"no model is configured: using the only cached local model, {only.ref} "
                "(set model.provider and model.path, or model.baseUrl, to choose)"
            )
            return settings.model_copy(update={"model": model}), notice
    if await reachable(settings.model.base_url):
        return settings, None
    raise NotConfigured(setup_message(settings.model.base_url))
