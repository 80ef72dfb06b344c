"""The agent protocol over LSP: every custom method name and payload, spelled once.

Shapes follow the Agent Client Protocol (ACP v1) with the `agent/` prefix; see
docs in README.md ("Protocol"). `schemas/` is generated from these models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.alias_generators import to_camel

from lsp_agent.server.review_protocol import REVIEW as REVIEW
from lsp_agent.server.review_protocol import ReviewHunk as ReviewHunk
from lsp_agent.server.review_protocol import ReviewMode as ReviewMode
from lsp_agent.server.review_protocol import ReviewParams as ReviewParams
from lsp_agent.server.review_protocol import ReviewResult as ReviewResult
from lsp_agent.server.wire import Wire as Wire

PROTOCOL_VERSION = 1
PROBLEMS_URI = "lsp-agent:problems"  # an embedded resource: the editor's diagnostics
Mode = Literal["read-only", "ask", "accept-edits", "auto"]  # config.PermissionMode, on the wire

# client -> server
SESSION_NEW = "agent/session/new"
SESSION_PROMPT = "agent/session/prompt"
SESSION_CANCEL = "agent/session/cancel"
SESSION_LIST = "agent/session/list"
SESSION_LOAD = "agent/session/load"
SESSION_UNDO = "agent/session/undo"
COMMANDS_LIST = "agent/commands"
SESSION_CONFIG = "agent/session/config"
# server -> client
SESSION_UPDATE = "agent/session/update"
REQUEST_PERMISSION = "agent/session/request_permission"
GET_DIAGNOSTICS = "agent/getDiagnostics"
SAVE_DOCUMENTS = "agent/saveDocuments"
LANGUAGE_FEATURE = "agent/languageFeature"
# workspace/executeCommand
CMD_FIX = "lspAgent.fix"
CMD_ASK = "lspAgent.ask"
CMD_RUN = "lspAgent.run"
CMD_CANCEL = "lspAgent.cancel"
CMD_UNDO = "lspAgent.undo"
COMMANDS = (CMD_FIX, CMD_ASK, CMD_RUN, CMD_CANCEL, CMD_UNDO)


# --- LSP shapes we carry (kept loose: they come from any client) ---------------------


class Position(Wire):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(Wire):
    start: Position
    end: Position

    @property
    def empty(self) -> bool:
        return self.start == self.end


class Diagnostic(Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    range: Range
    message: str
    severity: int | None = None
    source: str | None = None
    code: int | str | None = None


class TextDocumentRef(Wire):
    uri: str
    version: int | None = None


# --- client -> server ----------------------------------------------------------------


class NewSessionParams(Wire):
    cwd: str | None = Field(None, description="Workspace folder path or URI; default: the root.")
    title: str | None = None


class NewSessionResult(Wire):
    session_id: str
    mode: Mode | None = Field(None, description="The session's permission mode.")
    model: str | None = Field(None, description="The model its prompts use.")
    review: ReviewMode | None = Field(None, description="The session's review mode.")


class TextBlock(Wire):
    type: Literal["text"] = "text"
    text: str


class ResourceLinkBlock(Wire):
    type: Literal["resource_link"] = "resource_link"
    uri: str = Field(
        description="A workspace file is attached like an @mention; a `#L10-20` or `#L10` "
        "fragment attaches only those lines (1-based)."
    )
    name: str | None = None


class TextResource(Wire):
    uri: str = Field(
        description=f"`{PROBLEMS_URI}`: the editor's diagnostics (text: a JSON list of "
        "`{uri, diagnostics}`); a file URI with a `#L3-5` fragment: the user's selection "
        "(text: those lines); any other: text attached as is."
    )
    text: str
    mime_type: str | None = None


class EmbeddedResourceBlock(Wire):
    type: Literal["resource"] = "resource"
    resource: TextResource


ContentBlock = Annotated[
    TextBlock | ResourceLinkBlock | EmbeddedResourceBlock, Field(discriminator="type")
]


class InlineEdit(Wire):
    """An inline edit: the run may change only these lines of this file."""

    uri: str
    range: Range = Field(
        description="The lines the edit may change: start.line to end.line (an end at "
        "character 0 of a later line stops at the line before)."
    )


class PromptContext(Wire):
    text_document: TextDocumentRef | None = None
    range: Range | None = None
    diagnostics: list[Diagnostic] | None = None


class PromptParams(Wire):
    session_id: str = Field(min_length=1)
    prompt: list[ContentBlock] | str
    context: PromptContext | None = None
    inline_edit: InlineEdit | None = Field(
        None, description="Edit only this range: edits elsewhere are refused as tool errors."
    )
    work_done_token: int | str | None = None


class UsageSummary(Wire):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0


class PromptResult(Wire):
    stop_reason: Literal[
        "end_turn", "max_turns", "budget", "cancelled", "model_error", "context_overflow"
    ]
    usage: UsageSummary
    cost_usd: float | None = None
    turns: int
    tool_calls: int
    edited_uris: list[str]
    error: str | None = None
    limit: str | None = None


class SessionIdParams(Wire):
    session_id: str = Field(min_length=1)


class ListSessionsParams(Wire):
    pass


class SessionSummary(Wire):
    session_id: str
    title: str
    cwd: str
    created_at: str
    updated_at: str
    turns: int


class ListSessionsResult(Wire):
    sessions: list[SessionSummary]


class LoadSessionResult(Wire):
    session_id: str
    updates: int = Field(description="How many updates were replayed.")
    mode: Mode | None = Field(None, description="The session's permission mode.")
    model: str | None = Field(None, description="The model its prompts use.")
    review: ReviewMode | None = Field(None, description="The session's review mode.")


class UndoParams(Wire):
    session_id: str = Field(min_length=1)
    turns: int = Field(1, ge=1)
    force: bool = False


class UndoResult(Wire):
    reverted_uris: list[str]
    conflicts: list[str]


class SessionConfigParams(Wire):
    session_id: str = Field(min_length=1)
    mode: Mode | None = Field(
        None, description="Switch the permission mode; kept with the session."
    )
    model: str | None = Field(
        None, min_length=1, max_length=256, description="Switch the model; kept with the session."
    )
    review: ReviewMode | None = Field(
        None, description="Switch the review mode (setting editor.review); kept with the session."
    )


class ModeChoice(Wire):
    id: Mode
    name: str
    description: str


class SessionConfigResult(Wire):
    """The session's current choices (after the switch, if one was asked for)."""

    mode: Mode
    model: str
    review: ReviewMode
    modes: list[ModeChoice]
    models: list[str] = Field(description="The server's `/models` (empty if it lists none).")


class ListCommandsParams(Wire):
    cwd: str | None = Field(None, description="Workspace folder path or URI; default: the root.")


class SlashCommand(Wire):
    name: str = Field(description="Without the slash: the prompt `/name args` runs it.")
    description: str
    source: Literal["builtin", "workspace", "user"]
    hint: str | None = Field(None, description="What the arguments are, for a picker.")


class ListCommandsResult(Wire):
    commands: list[SlashCommand]
    notes: list[str] = Field(default_factory=list, description="Command files skipped, and why.")


# --- server -> client: session updates ---------------------------------------------


class TextContent(Wire):
    type: Literal["text"] = "text"
    text: str


class UserMessageChunk(Wire):
    session_update: Literal["user_message_chunk"] = "user_message_chunk"
    content: TextContent


class AgentMessageChunk(Wire):
    session_update: Literal["agent_message_chunk"] = "agent_message_chunk"
    content: TextContent


class AgentThoughtChunk(Wire):
    session_update: Literal["agent_thought_chunk"] = "agent_thought_chunk"
    content: TextContent
    parent_tool_call_id: str | None = Field(
        None, description="A sub-agent's update: the parent's `task` tool call it runs under."
    )


AcpToolKind = Literal[
    "read", "edit", "delete", "move", "search", "execute", "think", "fetch", "other"
]


class Location(Wire):
    path: str
    line: int | None = None


class ToolCallUpdateShape(Wire):
    session_update: Literal["tool_call"] = "tool_call"
    tool_call_id: str
    title: str
    kind: AcpToolKind
    status: Literal["pending"] = "pending"
    raw_input: dict[str, Any] | str | None = None
    locations: list[Location] | None = None
    parent_tool_call_id: str | None = Field(
        None, description="A sub-agent's update: the parent's `task` tool call it runs under."
    )


class ContentItem(Wire):
    type: Literal["content"] = "content"
    content: TextContent


class DiffItem(Wire):
    type: Literal["diff"] = "diff"
    path: str
    old_text: str | None
    new_text: str

    def dump(self) -> dict[str, Any]:  # oldText: null means "new file"; keep it
        out = super().dump()
        out.setdefault("oldText", None)
        return out


ToolCallContent = Annotated[ContentItem | DiffItem, Field(discriminator="type")]


class ToolCallProgressShape(Wire):
    session_update: Literal["tool_call_update"] = "tool_call_update"
    tool_call_id: str
    status: Literal["in_progress", "completed", "failed"] | None = None
    content: list[ToolCallContent] | None = None
    raw_output: dict[str, Any] | None = None
    parent_tool_call_id: str | None = Field(
        None, description="A sub-agent's update: the parent's `task` tool call it runs under."
    )


class PlanEntryShape(Wire):
    content: str
    priority: Literal["high", "medium", "low"] = "medium"
    status: Literal["pending", "in_progress", "completed"] = "pending"


class PlanUpdate(Wire):
    session_update: Literal["plan"] = "plan"
    entries: list[PlanEntryShape]


class Cost(Wire):
    amount: float
    currency: str = "USD"


class UsageUpdate(Wire):
    session_update: Literal["usage_update"] = "usage_update"
    used: int
    size: int | None = None
    cost: Cost | None = None


class CompactionUpdate(Wire):
    """The conversation was compacted to fit the context window (not an ACP update: the
    ACP front end says it as a thought)."""

    session_update: Literal["compaction"] = "compaction"
    method: Literal["snip", "summarize", "clear"]
    tokens_before: int = Field(ge=0, description="Context tokens before the compaction.")
    tokens_after: int = Field(ge=0, description="Context tokens after it.")
    reason: Literal["threshold", "overflow", "requested"] = "threshold"
    parent_tool_call_id: str | None = Field(
        None, description="A sub-agent's update: the parent's `task` tool call it runs under."
    )


class SessionInfoUpdate(Wire):
    session_update: Literal["session_info_update"] = "session_info_update"
    title: str | None = None


SessionUpdate = Annotated[
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallUpdateShape
    | ToolCallProgressShape
    | PlanUpdate
    | UsageUpdate
    | CompactionUpdate
    | SessionInfoUpdate,
    Field(discriminator="session_update"),
]


class SessionUpdateParams(Wire):
    session_id: str
    seq: int = Field(ge=0, description="Per session, +1 per update; a gap means a lost update.")
    update: SessionUpdate


# --- server -> client requests -------------------------------------------------------

OptionKind = Literal["allow_once", "allow_always", "reject_once", "reject_always"]


class PermissionOption(Wire):
    option_id: str
    name: str
    kind: OptionKind


class PermissionToolCall(Wire):
    tool_call_id: str
    title: str
    kind: AcpToolKind
    status: Literal["pending"] = "pending"
    raw_input: dict[str, Any] | None = None
    content: list[ToolCallContent] | None = None
    locations: list[Location] | None = None


class RequestPermissionParams(Wire):
    session_id: str
    tool_call: PermissionToolCall
    options: list[PermissionOption]


class SelectedOutcome(Wire):
    outcome: Literal["selected"]
    option_id: str


class CancelledOutcome(Wire):
    outcome: Literal["cancelled"]


class RequestPermissionResult(Wire):
    outcome: Annotated[SelectedOutcome | CancelledOutcome, Field(discriminator="outcome")]


class GetDiagnosticsParams(Wire):
    uris: list[str] | None = None


class DiagnosticsItem(Wire):
    uri: str
    diagnostics: list[Diagnostic]


class GetDiagnosticsResult(Wire):
    items: list[DiagnosticsItem]


class SaveDocumentsParams(Wire):
    uris: list[str]


class SaveDocumentsResult(Wire):
    saved: list[str]


# The LSP requests the language tools send to the editor (if it has `languageFeatures`).
LanguageFeatureMethod = Literal[
    "textDocument/definition",
    "textDocument/references",
    "textDocument/hover",
    "textDocument/documentSymbol",
    "workspace/symbol",
    "textDocument/rename",
    "textDocument/codeAction",
    "codeAction/resolve",
    "textDocument/diagnostic",
    "workspace/diagnostic",
]


class LanguageFeatureParams(Wire):
    """An LSP request for the editor to answer from all of its language servers: `params`
    and the answer are that method's LSP params and result (UTF-16 positions)."""

    method: LanguageFeatureMethod
    params: dict[str, Any]


class LanguageFeatureResult(RootModel[Any]):
    """The LSP result of `method` (e.g. `Location[]` for definition), merged over the
    editor's servers; null when none answers."""


# --- commands and capabilities ---------------------------------------------------------


class FixCommandArgs(Wire):
    uri: str
    range: Range
    diagnostics: list[Diagnostic] = Field(default_factory=list)


class AskCommandArgs(Wire):
    uri: str
    range: Range
    prompt: str = Field(min_length=1)


class RunCommandArgs(Wire):
    prompt: str = Field(min_length=1)
    uri: str | None = None
    range: Range | None = None


class CommandResult(Wire):
    session_id: str


class ClientAgentCapabilities(Wire):
    """`capabilities.experimental.lspAgent` sent by the client."""

    request_permission: bool = False
    get_diagnostics: bool = False
    save_documents: bool = False
    language_features: bool = False  # answers agent/languageFeature
    review: bool = False  # answers agent/review (editor.review "hunks" / "file")


class ServerAgentCapabilities(Wire):
    version: int = PROTOCOL_VERSION


# Every custom method with its params and result models, for schemas/ and the shims.
METHODS: dict[str, tuple[type[BaseModel] | None, type[BaseModel] | None]] = {
    SESSION_NEW: (NewSessionParams, NewSessionResult),
    SESSION_PROMPT: (PromptParams, PromptResult),
    SESSION_CANCEL: (SessionIdParams, None),
    SESSION_LIST: (ListSessionsParams, ListSessionsResult),
    SESSION_LOAD: (SessionIdParams, LoadSessionResult),
    SESSION_UNDO: (UndoParams, UndoResult),
    COMMANDS_LIST: (ListCommandsParams, ListCommandsResult),
    SESSION_CONFIG: (SessionConfigParams, SessionConfigResult),
    SESSION_UPDATE: (SessionUpdateParams, None),
    REQUEST_PERMISSION: (RequestPermissionParams, RequestPermissionResult),
    GET_DIAGNOSTICS: (GetDiagnosticsParams, GetDiagnosticsResult),
    SAVE_DOCUMENTS: (SaveDocumentsParams, SaveDocumentsResult),
    LANGUAGE_FEATURE: (LanguageFeatureParams, LanguageFeatureResult),
    REVIEW: (ReviewParams, ReviewResult),
    CMD_FIX: (FixCommandArgs, CommandResult),
    CMD_ASK: (AskCommandArgs, CommandResult),
    CMD_RUN: (RunCommandArgs, CommandResult),
    CMD_CANCEL: (SessionIdParams, None),
    CMD_UNDO: (UndoParams, UndoResult),
}
