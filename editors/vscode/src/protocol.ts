/**
 * The agent protocol over LSP, client side: every method name and payload type, spelled once.
 *
 * Mirrors `schemas/` (generated from `lsp_agent/server/protocol.py`); see PROTOCOL.md.
 * `test/unit/protocol.test.ts` checks the method and update names against `schemas/index.json`.
 * Nothing here imports `vscode`: the Node test drives the real server with these types too.
 */

export const PROTOCOL_VERSION = 1;

/** Client -> server requests and notifications. */
export const SESSION_NEW = 'agent/session/new';
export const SESSION_PROMPT = 'agent/session/prompt';
export const SESSION_CANCEL = 'agent/session/cancel';
export const SESSION_LIST = 'agent/session/list';
export const SESSION_LOAD = 'agent/session/load';
export const SESSION_UNDO = 'agent/session/undo';
/** The slash commands a prompt may start with (built-in and `.lsp-agent/commands/*.md`). */
export const COMMANDS = 'agent/commands';
/** Read or switch a session's permission mode and model. */
export const SESSION_CONFIG = 'agent/session/config';
/** Server -> client. */
export const SESSION_UPDATE = 'agent/session/update';
export const REQUEST_PERMISSION = 'agent/session/request_permission';
export const GET_DIAGNOSTICS = 'agent/getDiagnostics';
export const SAVE_DOCUMENTS = 'agent/saveDocuments';
/** An LSP request (definition, references, rename, ...) for the editor's language servers. */
export const LANGUAGE_FEATURE = 'agent/languageFeature';
/** Review an agent edit before it is written (setting `editor.review` "hunks" / "file"). */
export const REVIEW = 'agent/review';
/** `workspace/executeCommand` commands the server offers (code actions use fix and ask). */
export const CMD_FIX = 'lspAgent.fix';
export const CMD_ASK = 'lspAgent.ask';
export const CMD_RUN = 'lspAgent.run';
export const CMD_CANCEL = 'lspAgent.cancel';
export const CMD_UNDO = 'lspAgent.undo';

export const METHODS = [
  COMMANDS,
  SESSION_CONFIG,
  GET_DIAGNOSTICS,
  LANGUAGE_FEATURE,
  SAVE_DOCUMENTS,
  SESSION_CANCEL,
  SESSION_LIST,
  SESSION_LOAD,
  SESSION_NEW,
  SESSION_PROMPT,
  REQUEST_PERMISSION,
  REVIEW,
  SESSION_UNDO,
  SESSION_UPDATE,
  CMD_ASK,
  CMD_CANCEL,
  CMD_FIX,
  CMD_RUN,
  CMD_UNDO,
] as const;

/** The settings section, in `initializationOptions` and `workspace/configuration`. */
export const SETTINGS_SECTION = 'lspAgent';

// --- capabilities --------------------------------------------------------------------

/** What this client implements, sent as `capabilities.experimental.lspAgent`. */
export interface ClientAgentCapabilities {
  requestPermission: boolean;
  getDiagnostics: boolean;
  saveDocuments: boolean;
  /** Answers `agent/languageFeature` from the editor's language servers. */
  languageFeatures: boolean;
  /** Answers `agent/review`: the user accepts or rejects an agent edit per hunk. */
  review: boolean;
}

export const CLIENT_CAPABILITIES: ClientAgentCapabilities = {
  requestPermission: true,
  getDiagnostics: true,
  saveDocuments: true,
  languageFeatures: true,
  review: true,
};

/** The server's `capabilities.experimental.lspAgent`. */
export interface ServerAgentCapabilities {
  version: number;
}

// --- LSP shapes carried in payloads (0-based, file:// URIs) ----------------------------

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Diagnostic {
  range: Range;
  message: string;
  severity?: number | null;
  source?: string | null;
  code?: number | string | null;
  tags?: number[];
  [extra: string]: unknown;
}

export interface TextDocumentRef {
  uri: string;
  version?: number | null;
}

// --- client -> server --------------------------------------------------------------

export interface NewSessionParams {
  cwd?: string | null;
  title?: string | null;
}

export interface NewSessionResult {
  sessionId: string;
  /** The session's permission mode. */
  mode?: PermissionMode | null;
  /** The model its prompts use. */
  model?: string | null;
  /** How its edits are reviewed. */
  review?: ReviewMode | null;
}

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ResourceLinkBlock {
  type: 'resource_link';
  /** A workspace file is attached like an @mention; `#L10-20` attaches only those lines. */
  uri: string;
  name?: string | null;
}

/** The URI of the embedded resource that carries the editor's diagnostics (`@problems`). */
export const PROBLEMS_URI = 'lsp-agent:problems';

export interface TextResource {
  /** PROBLEMS_URI (text: JSON `[{uri, diagnostics}]`), a file URI with `#L3-5` (a selection), or any. */
  uri: string;
  text: string;
  mimeType?: string | null;
}

export interface EmbeddedResourceBlock {
  type: 'resource';
  resource: TextResource;
}

export type ContentBlock = TextBlock | ResourceLinkBlock | EmbeddedResourceBlock;

/** An inline edit: the run may change only these lines of this file. */
export interface InlineEdit {
  uri: string;
  range: Range;
}

export interface PromptContext {
  textDocument?: TextDocumentRef | null;
  range?: Range | null;
  diagnostics?: Diagnostic[] | null;
}

export interface PromptParams {
  sessionId: string;
  prompt: ContentBlock[] | string;
  context?: PromptContext | null;
  inlineEdit?: InlineEdit | null;
  workDoneToken?: number | string | null;
}

export interface UsageSummary {
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  reasoningTokens?: number;
  totalTokens?: number;
}

export type StopReason =
  | 'end_turn'
  | 'max_turns'
  | 'budget'
  | 'cancelled'
  | 'model_error'
  | 'context_overflow';

export interface PromptResult {
  stopReason: StopReason;
  usage: UsageSummary;
  costUsd?: number | null;
  turns: number;
  toolCalls: number;
  editedUris: string[];
  error?: string | null;
  limit?: string | null;
}

export interface SessionIdParams {
  sessionId: string;
}

export type ListSessionsParams = Record<string, never>;

export interface SessionSummary {
  sessionId: string;
  title: string;
  cwd: string;
  createdAt: string;
  updatedAt: string;
  turns: number;
}

export interface ListSessionsResult {
  sessions: SessionSummary[];
}

export interface LoadSessionResult {
  sessionId: string;
  /** How many updates were replayed. */
  updates: number;
  mode?: PermissionMode | null;
  model?: string | null;
  review?: ReviewMode | null;
}

export type PermissionMode = 'read-only' | 'ask' | 'accept-edits' | 'auto';

export interface SessionConfigParams {
  sessionId: string;
  /** Switch the permission mode (stored). */
  mode?: PermissionMode;
  /** Switch the model; kept with the session. */
  model?: string;
  /** Switch how the session's edits are reviewed (stored). */
  review?: ReviewMode;
}

export interface ModeChoice {
  id: PermissionMode;
  name: string;
  description: string;
}

/** The session's current choices (after the switch, if one was asked for). */
export interface SessionConfigResult {
  mode: PermissionMode;
  model: string;
  review: ReviewMode;
  modes: ModeChoice[];
  /** The server's `/models` (empty if it lists none). */
  models: string[];
}

export interface ListCommandsParams {
  /** Workspace folder path or URI; default: the root. */
  cwd?: string;
}

export interface SlashCommand {
  /** Without the slash: the prompt `/name args` runs it. */
  name: string;
  description: string;
  source: 'builtin' | 'workspace' | 'user';
  /** What the arguments are, for a picker. */
  hint?: string | null;
}

export interface ListCommandsResult {
  commands: SlashCommand[];
  /** Command files skipped, and why. */
  notes: string[];
}

export interface UndoParams {
  sessionId: string;
  turns?: number;
  force?: boolean;
}

export interface UndoResult {
  revertedUris: string[];
  conflicts: string[];
}

// --- server -> client: session updates -----------------------------------------------

export interface TextContent {
  type: 'text';
  text: string;
}

export type ToolKind =
  | 'read'
  | 'edit'
  | 'delete'
  | 'move'
  | 'search'
  | 'execute'
  | 'think'
  | 'fetch'
  | 'other';

export const TOOL_KINDS: readonly ToolKind[] = [
  'read',
  'edit',
  'delete',
  'move',
  'search',
  'execute',
  'think',
  'fetch',
  'other',
];

export type ToolCallStatus = 'pending' | 'in_progress' | 'completed' | 'failed';

export interface Location {
  path: string;
  line?: number | null;
}

export interface ContentItem {
  type: 'content';
  content: TextContent;
}

export interface DiffItem {
  type: 'diff';
  /** Absolute path of the file. */
  path: string;
  /** null: the file is created. */
  oldText: string | null;
  newText: string;
}

export type ToolCallContent = ContentItem | DiffItem;

export interface UserMessageChunk {
  sessionUpdate: 'user_message_chunk';
  content: TextContent;
}

export interface AgentMessageChunk {
  sessionUpdate: 'agent_message_chunk';
  content: TextContent;
}

export interface AgentThoughtChunk {
  sessionUpdate: 'agent_thought_chunk';
  content: TextContent;
  /** A sub-agent's update: the parent's `task` tool call it runs under. */
  parentToolCallId?: string | null;
}

export interface ToolCallStart {
  sessionUpdate: 'tool_call';
  toolCallId: string;
  title: string;
  kind: ToolKind;
  status?: 'pending';
  rawInput?: Record<string, unknown> | string | null;
  locations?: Location[] | null;
  /** A sub-agent's update: the parent's `task` tool call it runs under. */
  parentToolCallId?: string | null;
}

export interface ToolCallUpdate {
  sessionUpdate: 'tool_call_update';
  toolCallId: string;
  status?: 'in_progress' | 'completed' | 'failed' | null;
  /** A streamed output chunk appends. */
  content?: ToolCallContent[] | null;
  rawOutput?: Record<string, unknown> | null;
  /** A sub-agent's update: the parent's `task` tool call it runs under. */
  parentToolCallId?: string | null;
}

export type PlanPriority = 'high' | 'medium' | 'low';
export type PlanStatus = 'pending' | 'in_progress' | 'completed';

export interface PlanEntry {
  content: string;
  priority?: PlanPriority;
  status?: PlanStatus;
}

export interface PlanUpdate {
  sessionUpdate: 'plan';
  /** Always the full list. */
  entries: PlanEntry[];
}

export interface Cost {
  amount: number;
  currency?: string;
}

export interface UsageUpdate {
  sessionUpdate: 'usage_update';
  /** Context tokens in use. */
  used: number;
  size?: number | null;
  /** The current prompt's cost so far. */
  cost?: Cost | null;
}

export interface CompactionUpdate {
  sessionUpdate: 'compaction';
  /** snip: old tool outputs removed; summarize: older turns summarized; clear: all of it. */
  method: 'snip' | 'summarize' | 'clear';
  /** Context tokens before and after. */
  tokensBefore: number;
  tokensAfter: number;
  reason?: 'threshold' | 'overflow' | 'requested';
  /** A sub-agent's update: the parent's `task` tool call it runs under. */
  parentToolCallId?: string | null;
}

export interface SessionInfoUpdate {
  sessionUpdate: 'session_info_update';
  title?: string | null;
}

export type SessionUpdate =
  | UserMessageChunk
  | AgentMessageChunk
  | AgentThoughtChunk
  | ToolCallStart
  | ToolCallUpdate
  | PlanUpdate
  | UsageUpdate
  | CompactionUpdate
  | SessionInfoUpdate;

export type SessionUpdateKind = SessionUpdate['sessionUpdate'];

export const UPDATE_KINDS: readonly SessionUpdateKind[] = [
  'agent_message_chunk',
  'agent_thought_chunk',
  'compaction',
  'plan',
  'session_info_update',
  'tool_call',
  'tool_call_update',
  'usage_update',
  'user_message_chunk',
];

export interface SessionUpdateParams {
  sessionId: string;
  /** Per session, +1 per update; a gap means a lost update. */
  seq: number;
  update: SessionUpdate;
}

// --- server -> client requests -----------------------------------------------------------

export type PermissionOptionKind = 'allow_once' | 'allow_always' | 'reject_once' | 'reject_always';

export interface PermissionOption {
  optionId: string;
  name: string;
  kind: PermissionOptionKind;
}

export interface PermissionToolCall {
  toolCallId: string;
  title: string;
  kind: ToolKind;
  status?: 'pending';
  rawInput?: Record<string, unknown> | null;
  locations?: Location[] | null;
  content?: ToolCallContent[] | null;
}

export interface RequestPermissionParams {
  sessionId: string;
  toolCall: PermissionToolCall;
  options: PermissionOption[];
}

export type PermissionOutcome =
  | { outcome: 'selected'; optionId: string }
  | { outcome: 'cancelled' };

export interface RequestPermissionResult {
  outcome: PermissionOutcome;
}

export interface GetDiagnosticsParams {
  uris?: string[] | null;
}

export interface DiagnosticsItem {
  uri: string;
  diagnostics: Diagnostic[];
}

export interface GetDiagnosticsResult {
  items: DiagnosticsItem[];
}

export interface SaveDocumentsParams {
  uris: string[];
}

export interface SaveDocumentsResult {
  saved: string[];
}

// --- agent/review (review-spec) ---------------------------------------------------------------

/** How an edit is reviewed: `auto` writes it once the permission mode allows it. */
export type ReviewMode = 'auto' | 'hunks' | 'file';

export type ReviewGranularity = 'hunks' | 'file';

export interface ReviewHunk {
  /** 0, 1, 2 … in file order. */
  id: number;
  /** 0-based line and count in the original text (0 lines: an insertion). */
  originalStart: number;
  originalLines: number;
  proposedStart: number;
  proposedLines: number;
  originalText: string;
  proposedText: string;
}

export interface ReviewParams {
  sessionId: string;
  toolCallId: string;
  title: string;
  uri: string;
  /** Workspace-relative, for display. */
  path: string;
  /** The open buffer's version the review is based on; null: not open. */
  version: number | null;
  granularity: ReviewGranularity;
  original: string;
  proposed: string;
  hunks: ReviewHunk[];
}

export interface ReviewResult {
  accepted: number[];
  rejected: number[];
  /** The user closed the review without deciding. */
  closed?: boolean;
}

/** The LSP requests the agent's language tools send the editor. */
export const LANGUAGE_FEATURE_METHODS = [
  'textDocument/definition',
  'textDocument/references',
  'textDocument/hover',
  'textDocument/documentSymbol',
  'workspace/symbol',
  'textDocument/rename',
  'textDocument/codeAction',
  'codeAction/resolve',
  'textDocument/diagnostic',
  'workspace/diagnostic',
] as const;

export type LanguageFeatureMethod = (typeof LANGUAGE_FEATURE_METHODS)[number];

/** `params` and the answer are that LSP method's params and result (UTF-16 positions). */
export interface LanguageFeatureParams {
  method: LanguageFeatureMethod;
  params: Record<string, unknown>;
}

// --- workspace/executeCommand arguments -----------------------------------------------------

export interface FixCommandArgs {
  uri: string;
  range: Range;
  diagnostics?: Diagnostic[];
}

export interface AskCommandArgs {
  uri: string;
  range: Range;
  prompt: string;
}

export interface RunCommandArgs {
  prompt: string;
  uri?: string | null;
  range?: Range | null;
}

export interface CommandResult {
  sessionId: string;
}
