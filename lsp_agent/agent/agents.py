"""Sub-agent types: `.lsp-agent/agents/*.md` (the workspace) and the user's config folder
(`~/.config/lsp-agent/agents`), in the shape Claude Code's agent files have.

    ---
    name: reviewer
    description: Reviews a change for bugs; give it the files to look at.
    tools: read_file, grep, glob
    model: gpt-4.1-mini
    ---
    You review code. Report each problem with its file and line.

`name` defaults to the file's name; `tools` (comma-separated, or `[a, b]`) defaults to the
read-only tools; `model` to the run's model. The body is the sub-agent's system prompt.
Workspace agents override the user's; the built-in `general` cannot be overridden. A bad
file is skipped with a note, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsp_agent.agent.commands import (
    NAME,
    CommandFileError,
    Source,
    first_line,
    markdown_files,
    read_markdown,
    user_config_folder,
)

AGENTS_DIR = Path(".lsp-agent") / "agents"
MAX_AGENTS = 100  # per folder: each is listed in the task tool's description
DEFAULT_AGENT = "general"
GENERAL_PROMPT = (
    "You are a sub-agent: another agent gave you one self-contained task. Work on it with "
    "your tools, then answer with a concise, complete report of what you found (files, "
    "lines, facts); that report is all the other agent will see."
)


@dataclass(frozen=True)
class AgentType:
    name: str
    description: str
    prompt: str  # the system prompt's own part (the workspace's facts are added)
    tools: tuple[str, ...] | None = None  # None: the read-only tools
    model: str | None = None  # None: the run's model
    source: Source | None = None  # None: built in


GENERAL = AgentType(
    DEFAULT_AGENT,
    "A general-purpose agent with the read-only tools: searches and reads the workspace "
    "and reports what it found.",
    GENERAL_PROMPT,
)


@dataclass(frozen=True)
class AgentTypes:
    found: dict[str, AgentType]
    notes: list[str]  # files skipped, and why

    def listing(self) -> str:
        return "\n".join(f"- {a.name}: {a.description}" for a in self.found.values())


def user_agents_dir() -> Path:
    return user_config_folder("agents")


def load_agents(root: Path, user_dir: Path | None = None) -> AgentTypes:
    """The agent types of a workspace: the built-in one, the user's, the workspace's."""
    notes: list[str] = []
    found: dict[str, AgentType] = {DEFAULT_AGENT: GENERAL}
    folders: list[tuple[Path, Source]] = [
        (user_dir or user_agents_dir(), "user"),
        (root / AGENTS_DIR, "workspace"),
    ]
    for folder, source in folders:
        found.update(_load_folder(folder, source, notes))
    return AgentTypes(found, notes)


def _load_folder(folder: Path, source: Source, notes: list[str]) -> dict[str, AgentType]:
    found: dict[str, AgentType] = {}
    for path, stem, shown in markdown_files(folder, "agents", source, MAX_AGENTS, notes):
        try:
            agent = _read(path, stem, source)
        except CommandFileError as e:
            notes.append(f"agent file {shown} skipped: {e}")
            continue
        if agent.name == DEFAULT_AGENT:
            notes.append(f"agent file {shown} skipped: '{DEFAULT_AGENT}' is built in")
            continue
        found[agent.name] = agent
    return found


def _read(path: Path, stem: str, source: Source) -> AgentType:
    meta, body = read_markdown(path)
    name = (meta.get("name") or stem).lower()
    if not NAME.fullmatch(name):
        raise CommandFileError(f"'{name}' is not a name: use letters, digits, '-', '_' or '.'")
    if not body.strip():
        raise CommandFileError("the system prompt (the body) is empty")
    tools = parse_list(meta["tools"]) if "tools" in meta else None
    return AgentType(
        name=name,
        description=meta.get("description") or first_line(body),
        prompt=body.strip(),
        tools=tools,
        model=meta.get("model") or None,
        source=source,
    )


def parse_list(value: str) -> tuple[str, ...]:
    """`a, b`, `[a, b]` or `["a", "b"]` -> ("a", "b")."""
    inner = value.strip().removeprefix("[").removesuffix("]")
    return tuple(x.strip().strip("\"'") for x in inner.split(",") if x.strip().strip("\"'"))
