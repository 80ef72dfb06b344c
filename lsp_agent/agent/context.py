"""What the model is told before the conversation: the system prompt and the workspace's
instruction files."""

from __future__ import annotations

import datetime
import platform
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lsp_agent.model.wire import SystemMessage

INSTRUCTION_FILES = (
    "AGENTS.md",
    "CLAUDE.md",
    ".github/copilot-instructions.md",
    ".lsp-agent/instructions.md",
)
FILE_CAP = 32_000  # characters kept of one instruction file
TOTAL_CAP = 64_000


@dataclass(frozen=True)
class Instructions:
    files: list[str]  # root-relative names, in load order
    text: str


def load_instructions(root: Path) -> Instructions:
    """The instruction files at the workspace root, each capped, unreadable ones skipped."""
    files, parts, total = [], [], 0
    for name in INSTRUCTION_FILES:
        path = root / name
        try:
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if len(text) > FILE_CAP:
            text = text[:FILE_CAP] + f"\n[… {name} truncated at {FILE_CAP} characters]"
        if total + len(text) > TOTAL_CAP:
            break
        total += len(text)
        files.append(name)
        parts.append(f'<instructions file="{name}">\n{text.strip()}\n</instructions>')
    return Instructions(files, "\n\n".join(parts))


def system_prompt(
    root: Path, instructions: Instructions | None = None, roots: tuple[Path, ...] = ()
) -> SystemMessage:
    """`root` is the working directory; `roots`, when they differ from it, are named too."""
    template = resources.files("lsp_agent.agent").joinpath("prompts/system.md").read_text("utf-8")
    bounds = (
        "" if not roots or roots == (root,) else f"Workspace roots: {', '.join(map(str, roots))}\n"
    )
    text = template.format(
        root=root,
        roots=bounds,
        platform=f"{platform.system()} {platform.machine()}",
        date=datetime.date.today().isoformat(),
    )
    if instructions and instructions.text:
        text += (
            "\nThe project's instruction files follow; follow them unless the user says "
            "otherwise.\n\n" + instructions.text
        )
    return SystemMessage(content=text)
