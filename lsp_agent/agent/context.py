"""What the model is told before the conversation: the system prompt."""

from __future__ import annotations

import datetime
import platform
from importlib import resources
from pathlib import Path

from lsp_agent.model.wire import SystemMessage


def system_prompt(root: Path) -> SystemMessage:
    template = resources.files("lsp_agent.agent").joinpath("prompts/system.md").read_text("utf-8")
    text = template.format(
        root=root,
        platform=f"{platform.system()} {platform.machine()}",
        date=datetime.date.today().isoformat(),
    )
    return SystemMessage(content=text)
