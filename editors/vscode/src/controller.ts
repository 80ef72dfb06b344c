/**
 * The sessions as the extension sees them: which one is current, whether a prompt runs, and
 * each session's transcript. It talks to the server through a small `Connection` (the
 * LanguageClient in VS Code, a vscode-jsonrpc connection in tests) and never imports `vscode`.
 */

import {
  COMMANDS,
  type ListCommandsParams,
  type ListCommandsResult,
  type ListSessionsResult,
  type LoadSessionResult,
  type NewSessionResult,
  type PermissionMode,
  type ContentBlock,
  type InlineEdit,
  type PromptContext,
  type PromptResult,
  type ReviewMode,
  SESSION_CANCEL,
  SESSION_CONFIG,
  SESSION_LIST,
  SESSION_LOAD,
  SESSION_NEW,
  SESSION_PROMPT,
  SESSION_UNDO,
  type SessionSummary,
  type SessionConfigParams,
  type SessionConfigResult,
  type SessionUpdateParams,
  type SlashCommand,
  type UndoResult,
} from './protocol';
import { TranscriptModel } from './transcript/model';

export interface Connection {
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  sendNotification(method: string, params: unknown): Promise<void> | void;
}

/** Where the last session id is remembered (VS Code's workspaceState). */
export interface Memento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const LAST_SESSION_KEY = 'lspAgent.lastSessionId';

/** The permission mode, model and review mode a session's next prompt runs with. */
export interface SessionChoices {
  mode: PermissionMode;
  model: string;
  /** Unknown until the server says it (an older server has no review). */
  review?: ReviewMode;
}

export class NotConnected extends Error {
  constructor() {
    super('The lsp-agent server is not running. Run "Agent: Restart Server", or check the "lsp-agent" output.');
  }
}

export class Busy extends Error {
  constructor() {
    super('The agent is still working on the last prompt: cancel it first.');
  }
}

type Listener = (model: TranscriptModel | undefined) => void;

export class AgentController {
  private readonly models = new Map<string, TranscriptModel>();
  private readonly listeners = new Set<Listener>();
  private connection: Connection | undefined;
  private currentId: string | undefined;
  private readonly choicesOf = new Map<string, SessionChoices>();

  constructor(private readonly memento?: Memento) {}

  // --- state ---------------------------------------------------------------------------

  get current(): TranscriptModel | undefined {
    return this.currentId ? this.models.get(this.currentId) : undefined;
  }

  /** The current session's mode and model, once the server has said them. */
  get choices(): SessionChoices | undefined {
    return this.currentId ? this.choicesOf.get(this.currentId) : undefined;
  }

  private remember(sessionId: string, result: { mode?: PermissionMode | null; model?: string | null; review?: ReviewMode | null }): void {
    if (result.mode && typeof result.model === 'string') {
      this.choicesOf.set(sessionId, { mode: result.mode, model: result.model, ...(result.review ? { review: result.review } : {}) });
    }
  }

  get running(): boolean {
    return this.current?.state.running ?? false;
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  model(sessionId: string): TranscriptModel {
    let model = this.models.get(sessionId);
    if (!model) {
      model = new TranscriptModel(sessionId);
      this.models.set(sessionId, model);
    }
    return model;
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    const current = this.current;
    for (const listener of [...this.listeners]) {
      listener(current);
    }
  }

  setConnection(connection: Connection | undefined): void {
    if (connection && connection !== this.connection) {
      // A new server process numbers each session's updates from 0 again.
      for (const model of this.models.values()) {
        model.forgetSeq();
      }
    }
    this.connection = connection;
    if (!connection) {
      // The server is gone: no prompt can still be running there.
      for (const model of this.models.values()) {
        if (model.state.running) {
          model.failPrompt('The server stopped.');
        }
      }
    }
    this.changed();
  }

  private conn(): Connection {
    if (!this.connection) {
      throw new NotConnected();
    }
    return this.connection;
  }

  async setCurrent(sessionId: string | undefined): Promise<void> {
    this.currentId = sessionId;
    if (sessionId) {
      this.model(sessionId);
    }
    await this.memento?.update(LAST_SESSION_KEY, sessionId);
    this.changed();
  }

  // --- server -> client ---------------------------------------------------------------

  /** An `agent/session/update` notification. */
  handleUpdate(params: SessionUpdateParams): void {
    if (!params || typeof params.sessionId !== 'string') {
      return;
    }
    if (this.model(params.sessionId).apply(params) && params.sessionId === this.currentId) {
      this.changed();
    }
  }

  // --- client -> server ---------------------------------------------------------------

  /** Start a fresh session next time (the transcript empties). */
  async newSession(cwd?: string): Promise<string> {
    const result = await this.conn().sendRequest<NewSessionResult>(SESSION_NEW, cwd ? { cwd } : {});
    this.remember(result.sessionId, result);
    await this.setCurrent(result.sessionId);
    return result.sessionId;
  }

  /**
   * Send a prompt to the current session (a new one if there is none) and wait for its end.
   * Resolves with the result; a failed request is shown in the transcript and rethrown.
   */
  async prompt(text: string | ContentBlock[], context?: PromptContext, cwd?: string, inlineEdit?: InlineEdit): Promise<PromptResult> {
    if (this.running) {
      throw new Busy();
    }
    const sessionId = this.currentId ?? (await this.newSession(cwd));
    const model = this.model(sessionId);
    model.setRunning(true);
    this.changed();
    try {
      const params = { sessionId, prompt: text, ...(context ? { context } : {}), ...(inlineEdit ? { inlineEdit } : {}) };
      const result = await this.conn().sendRequest<PromptResult>(SESSION_PROMPT, params);
      model.finishPrompt(result);
      return result;
    } catch (error) {
      if (model.state.running) {
        model.failPrompt(`The prompt failed: ${errorMessage(error)}`);
      }
      throw error;
    } finally {
      this.changed();
    }
  }

  /** Cancel the current session's prompt; false if none runs. */
  cancel(): boolean {
    const model = this.current;
    if (!model?.state.running || !this.connection) {
      return false;
    }
    void this.connection.sendNotification(SESSION_CANCEL, { sessionId: model.state.sessionId });
    return true;
  }

  async list(): Promise<SessionSummary[]> {
    const result = await this.conn().sendRequest<ListSessionsResult>(SESSION_LIST, {});
    return result.sessions ?? [];
  }

  /**
   * The current session's mode, model, review mode and what they may be switched to; with
   * `change`, switch first (a new session if there is none). The server stores the choice
   * with the session.
   */
  async config(change: { mode?: PermissionMode; model?: string; review?: ReviewMode } = {}, cwd?: string): Promise<SessionConfigResult> {
    const sessionId = this.currentId ?? (await this.newSession(cwd));
    const params: SessionConfigParams = { sessionId, ...change };
    const result = await this.conn().sendRequest<SessionConfigResult>(SESSION_CONFIG, params);
    this.remember(sessionId, result);
    this.changed();
    return result;
  }

  /** The slash commands a prompt may start with (built-in and custom). */
  async commands(cwd?: string): Promise<SlashCommand[]> {
    const params: ListCommandsParams = cwd ? { cwd } : {};
    const result = await this.conn().sendRequest<ListCommandsResult>(COMMANDS, params);
    return result.commands ?? [];
  }

  /** Make a stored session current; the server replays its history as updates. */
  async load(sessionId: string): Promise<LoadSessionResult> {
    const connection = this.conn();
    const model = this.model(sessionId);
    if (model.state.running) {
      await this.setCurrent(sessionId); // live already: nothing to replay
      return { sessionId, updates: 0 };
    }
    model.reset();
    this.currentId = sessionId;
    this.changed();
    const result = await connection.sendRequest<LoadSessionResult>(SESSION_LOAD, { sessionId });
    this.remember(sessionId, result);
    await this.setCurrent(sessionId);
    return result;
  }

  /** After a window reload: show the last session again. False if there was none (or it is gone). */
  async restore(): Promise<boolean> {
    const sessionId = this.memento?.get<string>(LAST_SESSION_KEY);
    if (!sessionId) {
      return false;
    }
    try {
      await this.load(sessionId);
      return true;
    } catch {
      this.currentId = undefined;
      await this.memento?.update(LAST_SESSION_KEY, undefined);
      this.changed();
      return false;
    }
  }

  async undo(force = false): Promise<UndoResult> {
    const model = this.current;
    if (!model) {
      throw new Error('There is no session to undo: ask the agent something first.');
    }
    if (model.state.running) {
      throw new Busy();
    }
    const result = await this.conn().sendRequest<UndoResult>(SESSION_UNDO, {
      sessionId: model.state.sessionId,
      turns: 1,
      ...(force ? { force: true } : {}),
    });
    model.noteUndo(result);
    this.changed();
    return result;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (error && typeof error === 'object' && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}
