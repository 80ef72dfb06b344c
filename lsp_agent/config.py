"""Settings: one pydantic model, its sources, and their precedence.

Precedence, from lowest: defaults, the user's config file, `[tool.lsp-agent]` in the
workspace's pyproject.toml or `.lsp-agent.toml`, the environment, then explicit overrides
(CLI flags, or the editor's settings in the language server).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

PermissionMode = Literal["read-only", "ask", "accept-edits", "auto"]
# How agent edits reach a file: "auto" as the permission mode allows; "hunks" / "file": the
# user reviews each edit (per hunk, or the whole file) before anything is written.
ReviewMode = Literal["auto", "hunks", "file"]
# Each mode's name and what it means, for pickers (ACP modes, the editors' mode switch).
MODES: dict[PermissionMode, tuple[str, str]] = {
    "read-only": ("Read only", "Reads and searches; no edits, no commands."),
    "ask": ("Ask", "Asks before every edit and every command that is not read-only."),
    "accept-edits": ("Accept edits", "Edits in the workspace without asking; asks for commands."),
    "auto": ("Auto", "Runs everything the rules allow without asking (still sandboxed)."),
}
Provider = Literal["openai", "local"]


class _Group(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Price(_Group):
    """US dollars per million tokens."""

    input: float = Field(0.0, ge=0)
    output: float = Field(0.0, ge=0)
    cached_input: float | None = Field(None, ge=0, description="Defaults to the input price.")


class ModelSettings(_Group):
    provider: Provider = Field(
        "openai",
        description="'openai': any OpenAI-compatible server at baseUrl; 'local': lsp-agent "
        "runs llama.cpp on model.path itself (pip install 'lsp-agent[local]').",
    )
    path: str | None = Field(
        None,
        description="The local provider's GGUF file: a path, or a pulled model as "
        "REPO:FILE or FILE (see `lsp-agent models list`).",
    )
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible base URL.")
    name: str = Field("default", description="Model name sent in each request.")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Name of the environment variable holding the API key."
    )
    context_window: int | None = Field(
        None, gt=0, description="Context window in tokens; else asked of the server."
    )
    compact_at: float = Field(
        0.8, ge=0.3, le=0.95, description="Compact before a request passes this share of it."
    )
    max_output_tokens: int | None = Field(None, gt=0)
    temperature: float | None = Field(None, ge=0, le=2)
    pricing: dict[str, Price] = Field(
        default_factory=dict, description="Price per model name, in USD per million tokens."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")
    stream: bool = Field(True, description="Stream responses (SSE); false uses plain JSON.")
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(120.0, gt=0, description="Longest silence while streaming.")
    max_attempts: int = Field(4, ge=1, le=10, description="Attempts per request, retries included.")
    retry_budget_s: float = Field(60.0, gt=0, description="Total time retries may take.")
    call_timeout_s: float = Field(
        600.0, gt=0, description="Longest time one model call may take, streaming included."
    )
    max_line_mb: float = Field(
        8.0, gt=0, description="Longest line (one SSE event) the model server may send, MB."
    )
    # A write_file's content arrives as a tool argument, JSON-escaped (each newline two
    # characters): the default leaves 20% above tools.maxWriteMb, so that cap is the one a
    # write meets.
    max_tool_args_kb: int = Field(
        12_288,
        ge=1,
        description="Largest arguments of one tool call, KB; larger are refused. Keep it "
        "above tools.maxWriteMb (write_file's content is an argument).",
    )


class PermissionSettings(_Group):
    mode: PermissionMode = "ask"
    allow: list[str] = Field(default_factory=list, description="Rules such as 'bash(git diff*)'.")
    deny: list[str] = Field(default_factory=list, description="Rules such as 'edit(.env)'.")


class LimitSettings(_Group):
    max_turns: int | None = Field(50, ge=1)
    max_tool_calls: int | None = Field(None, ge=0)
    max_model_calls: int | None = Field(None, ge=1)
    max_input_tokens: int | None = Field(None, ge=1)
    max_output_tokens: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1, description="Input plus output tokens.")
    max_cost_usd: float | None = Field(None, ge=0)
    timeout_s: float | None = Field(None, gt=0, description="Wall time of one run.")


SandboxSetting = Literal["auto", "bubblewrap", "landlock", "seatbelt", "off"]


class ShellSettings(_Group):
    timeout_s: float = Field(120.0, gt=0, description="Default timeout of one command.")
    output_limit: int = Field(16_000, ge=1000, description="Characters of output kept.")
    sandbox: SandboxSetting = Field(
        "auto",
        description="The OS sandbox around every command: auto picks bubblewrap, Landlock or "
        "Seatbelt; off runs commands unconfined (at your own risk).",
    )
    network: bool | None = Field(
        None, description="Network inside the sandbox; default: off in read-only, else on."
    )
    writable_paths: list[str] = Field(
        default_factory=list,
        description="Extra paths commands may write besides the workspace (e.g. ~/.cache).",
    )
    max_processes: int = Field(
        1024, ge=16, description="Processes one command may run at once (a fork bomb stops)."
    )
    max_file_mb: int = Field(4096, ge=1, description="Largest file one command may write, MB.")


class ToolSettings(_Group):
    output_limit: int = Field(
        16_000, ge=1000, description="Characters of one tool result sent to the model."
    )
    max_parallel: int | None = Field(
        None,
        ge=1,
        description="Read-only tool calls (read, list, glob, grep) run at once; default: the "
        "number of CPU cores.",
    )
    max_write_mb: float = Field(
        10.0,
        gt=0,
        description="Largest content one write_file or edit_file may write, MB. A write_file "
        "over model.maxToolArgsKb is stopped by that limit first.",
    )
    regex_timeout_s: float = Field(
        20.0,
        gt=0,
        description="Longest time one grep may run in Python's backtracking regex engine "
        "(look-around, backreferences); it runs in a child process, stopped at the limit.",
    )


class EditorSettings(_Group):
    follow_agent: bool = False
    save_before_shell: bool = True
    apply_edit_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Longest wait for the editor to answer one workspace/applyEdit; then the "
        "edit is withdrawn and the tool call fails.",
    )
    review: ReviewMode = Field(
        "auto",
        description="'auto': an edit lands once the permission mode allows it; 'hunks' / "
        "'file': each agent edit is shown as a diff first and only what the user accepts "
        "(per hunk, or the whole file) is written. Also a per-session switch.",
    )
    review_timeout_s: float = Field(
        3600.0,
        gt=0,
        description="Longest wait for the user to answer one review; then it counts as rejected.",
    )


class LocalSettings(_Group):
    """llama.cpp's server, run by the local provider: one per process, shared by sessions."""

    context_size: int = Field(
        8192, ge=512, description="Context window of each session, in tokens (llama.cpp n_ctx)."
    )
    parallel: int = Field(
        2, ge=1, le=16, description="Sessions served at once (llama.cpp n_parallel)."
    )
    threads: int | None = Field(None, ge=1, description="CPU threads; default: llama.cpp's.")
    gpu_layers: int = Field(
        -1, ge=-1, description="Layers offloaded to a GPU; -1: as many as fit, 0: none."
    )
    chat_template: str = Field(
        "auto",
        description="'auto' (by the GGUF's metadata), chatml, llama3, gemma, mistral, "
        "'embedded' (the model's own), or a Jinja file's path.",
    )
    load_timeout_s: float = Field(600.0, gt=0, description="Longest time a model may load.")


class HookCommand(_Group):
    type: Literal["command"] = "command"
    command: str = Field(min_length=1, description="Run with bash -c in the sandbox.")
    timeout: float = Field(60.0, gt=0, le=3600, description="Seconds; then it is killed.")


class HookMatcher(_Group):
    matcher: str = Field(
        "", description="Tool names (a regex, e.g. 'bash|write_file'); empty matches all."
    )
    hooks: list[HookCommand] = Field(default_factory=list)


def _hook_event(name: str) -> Any:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return Field(
        default_factory=list,
        validation_alias=AliasChoices(name, to_camel(snake), snake),
        serialization_alias=name,
    )


class HookSettings(_Group):
    """Shell hooks, in the shape Claude Code's settings use (`PreToolUse`, …)."""

    pre_tool_use: list[HookMatcher] = _hook_event("PreToolUse")
    post_tool_use: list[HookMatcher] = _hook_event("PostToolUse")
    user_prompt_submit: list[HookMatcher] = _hook_event("UserPromptSubmit")
    stop: list[HookMatcher] = _hook_event("Stop")
    session_start: list[HookMatcher] = _hook_event("SessionStart")


class McpServer(_Group):
    """One MCP server: `command` (stdio) or `url` (Streamable HTTP). `${VAR}` in env and
    headers is expanded only when the server starts, never stored expanded."""

    command: str | None = Field(None, description="Executable of a stdio server.")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(
        default_factory=dict, description="Its environment (clean besides these); ${VAR} allowed."
    )
    url: str | None = Field(None, description="Endpoint of a Streamable HTTP server.")
    headers: dict[str, str] = Field(default_factory=dict, description="${VAR} allowed.")
    enabled: bool = True


class McpSettings(_Group):
    servers: dict[str, McpServer] = Field(
        default_factory=dict, description="MCP servers by name; tools are mcp__NAME__TOOL."
    )
    timeout_s: float = Field(30.0, gt=0, description="Longest time a server may take to start.")


class AgentSettings(_Group):
    """Sub-agents (the `task` tool); agent types live in .lsp-agent/agents/*.md."""

    max_concurrent: int = Field(
        3, ge=1, le=16, description="Sub-agents (task tool calls) run at once in one run."
    )


class LanguageServer(_Group):
    """One language server the daemon starts itself (issue 13), headless over stdio."""

    command: list[str] = Field(min_length=1, description="The server and its arguments.")
    filetypes: list[str] = Field(
        min_length=1, description="Language ids it serves: python, typescript, javascript, …"
    )
    root_markers: list[str] = Field(
        default_factory=list, description="Files whose directory is the server's root."
    )
    enabled: bool = True


class LangServerSettings(_Group):
    servers: dict[str, LanguageServer] = Field(
        default_factory=dict,
        description="Language servers by name, over the built-in ones (basedpyright, ruff, "
        "typescript-language-server: used only when on PATH).",
    )
    check_after_edit: bool = Field(
        True, description="Append the diagnostics an edit introduced to its tool result."
    )
    diagnostics_wait_s: float = Field(
        1.5, gt=0, le=30, description="Longest wait for an edited file's diagnostics."
    )
    start_timeout_s: float = Field(
        60.0, gt=0, description="Longest time a language server may take to initialize."
    )


class Settings(_Group):
    model: ModelSettings = Field(default_factory=ModelSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    permissions: PermissionSettings = Field(default_factory=PermissionSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    shell: ShellSettings = Field(default_factory=ShellSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    editor: EditorSettings = Field(default_factory=EditorSettings)
    hooks: HookSettings = Field(default_factory=HookSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    langserver: LangServerSettings = Field(default_factory=LangServerSettings)

    def api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if environ is None else environ
        return env.get(self.model.api_key_env) or None


class ConfigError(Exception):
    """Configuration the user must fix; the message names the key and the fix."""


# --- sources ------------------------------------------------------------------


def user_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """`$LSP_AGENT_CONFIG`, else `config.toml` in the user config dir (~/.config/lsp-agent)."""
    explicit = (os.environ if environ is None else environ).get("LSP_AGENT_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs  # not on the startup path of commands that never read settings

    return Path(platformdirs.user_config_dir("lsp-agent")) / "config.toml"


def file_settings(workspace: Path) -> tuple[dict[str, Any], Path | None]:
    """The user's config file, with the workspace's file over it; and the file to name in
    messages (the workspace's, if it has one). Each file is validated on its own, so an
    error names the file that has it."""
    user_path = user_config_file()
    user = _read_table(user_path, ()) if user_path.is_file() else None
    if user:
        validate(user, str(user_path))
    found, path = workspace_settings(workspace)
    if found:
        validate(found, str(path))
    if not user:
        return found, path
    return merge_files(user, found), path or user_path


def workspace_settings(workspace: Path) -> tuple[dict[str, Any], Path | None]:
    """Settings from `.lsp-agent.toml`, else `[tool.lsp-agent]` in pyproject.toml."""
    candidates = [
        (workspace / ".lsp-agent.toml", ()),
        (workspace / "pyproject.toml", ("tool", "lsp-agent")),
    ]
    for path, keys in candidates:
        if not path.is_file():
            continue
        data = _read_table(path, keys)
        if data is not None:
            return data, path
    return {}, None


def _read_table(path: Path, keys: tuple[str, ...]) -> dict[str, Any] | None:
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}; fix the TOML syntax") from e
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [tool.lsp-agent] must be a table")
    return data


def merge_files(user: dict[str, Any], workspace: Mapping[str, Any]) -> dict[str, Any]:
    """The workspace's file over the user's; deny rules add up, so a workspace file never
    lifts a rule the user set for every workspace."""
    mine, theirs = merge({}, user), merge({}, workspace)  # keys spelled one way
    merged = merge(mine, theirs)
    denied = [*_deny_rules(mine), *_deny_rules(theirs)]
    if denied:
        permissions = merged.setdefault("permissions", {})
        permissions["deny"] = list(dict.fromkeys(denied))
    return merged


def _deny_rules(layer: Mapping[str, Any]) -> list[Any]:
    permissions = layer.get("permissions")
    rules = permissions.get("deny") if isinstance(permissions, Mapping) else None
    return list(rules) if isinstance(rules, list) else []


def env_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    model: dict[str, Any] = {}
    if environ.get("OPENAI_BASE_URL"):
        model["baseUrl"] = environ["OPENAI_BASE_URL"]
    if environ.get("OPENAI_MODEL"):
        model["name"] = environ["OPENAI_MODEL"]
    return {"model": model} if model else {}


# Their keys are the user's names (servers, variables, headers): never camelCased.
_VERBATIM_KEYS = frozenset({"servers", "env", "headers"})


def merge(
    base: dict[str, Any], over: Mapping[str, Any], *, verbatim: bool = False
) -> dict[str, Any]:
    """Deep-merge `over` into a copy of `base`; keys may be camelCase or snake_case."""
    out = dict(base)
    for key, value in over.items():
        key = to_camel(key) if "_" in key and not verbatim else key
        inner = key in _VERBATIM_KEYS
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, verbatim=inner)
        elif isinstance(value, Mapping):
            out[key] = merge({}, value, verbatim=inner)
        else:
            out[key] = value
    return out


def validate(raw: Mapping[str, Any], source: str = "settings") -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(describe_errors(e, source)) from None


def describe_errors(error: ValidationError, source: str) -> str:
    lines = []
    for err in error.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown setting '{key}' in {source}: remove it or check its spelling")
        else:
            value = err.get("input")
            shown = "" if isinstance(value, dict) else f" (got {value!r})"
            lines.append(f"invalid setting '{key}' in {source}: {err['msg']}{shown}")
    return "\n".join(lines)


def load_settings(
    workspace: Path,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the settings for a workspace; raises ConfigError naming the bad key."""
    env = os.environ if environ is None else environ
    from_file, _ = file_settings(workspace)  # each file blamed for its own mistakes
    raw = merge(merge(from_file, env_settings(env)), overrides or {})
    return validate(raw, "the merged settings (file, environment and flags)")
