/**
 * The transcript of one session as plain data: `agent/session/update`s in, a state to render
 * out. No `vscode` here, so the unit tests and the Node test against the real server use it
 * exactly as the extension does.
 */

import type {
  DiffItem,
  Location,
  PlanEntry,
  PromptResult,
  SessionUpdate,
  SessionUpdateParams,
  ToolCallStatus,
  ToolKind,
  UndoResult,
} from '../protocol';
import { formatCost, formatTokens } from './format';

export { KIND_ICON, PLAN_ICON, STATUS_ICON, formatCost, formatTokens, statusIcon, toolIcon } from './format';

export interface UserEntry {
  type: 'user';
  text: string;
}

export interface AgentEntry {
  type: 'agent';
  text: string;
}

export interface ThoughtEntry {
  type: 'thought';
  text: string;
}

export interface ToolEntry {
  type: 'tool';
  toolCallId: string;
  title: string;
  kind: ToolKind;
  status: ToolCallStatus;
  rawInput?: Record<string, unknown> | string | null;
  locations: Location[];
  /** Streamed and final text output, appended in order. */
  output: string;
  diffs: DiffItem[];
  /** A `task` call's sub-agent: its tool calls and text (thoughts), nested under it. */
  children?: (ToolEntry | ThoughtEntry)[];
}

export interface NoteEntry {
  type: 'note';
  level: 'info' | 'warning' | 'error';
  text: string;
}

/** The server compacted the conversation to fit the context window. */
export interface CompactionEntry {
  type: 'compaction';
  method: string;
  reason: string;
  tokensBefore: number;
  tokensAfter: number;
  /** A sub-agent's conversation (not the session's: the meter stays). */
  nested: boolean;
}

export type Entry = UserEntry | AgentEntry | ThoughtEntry | ToolEntry | NoteEntry | CompactionEntry;

/** What changed since the last `takeChanges()`: a view patches only those entries. */
export interface Changes {
  /** Everything (the transcript was reset): render it all. */
  full: boolean;
  /** Indexes into `entries` of the entries changed or added, ascending. */
  entries: number[];
}

export interface Usage {
  /** Context tokens in use (the last `usage_update`). */
  contextUsed: number;
  contextSize: number | null;
  /** Cost of the prompt running now (or the last one), in USD. */
  runCost: number | null;
  /** Cost of the session's earlier prompts, in USD. */
  earlierCost: number | null;
  /** Tokens of the prompts answered in this window (from the prompt results). */
  totalTokens: number;
}

export interface TranscriptState {
  sessionId: string;
  title: string;
  entries: Entry[];
  plan: PlanEntry[];
  usage: Usage;
  running: boolean;
  /** The last `seq` seen, to detect lost updates. */
  lastSeq: number | null;
  /** How many times a gap in `seq` was seen. */
  gaps: number;
}

export function sessionCost(usage: Usage): number | null {
  if (usage.runCost === null && usage.earlierCost === null) {
    return null;
  }
  return (usage.earlierCost ?? 0) + (usage.runCost ?? 0);
}

export const STOP_REASONS: Record<string, string> = {
  end_turn: 'Done',
  max_turns: 'Stopped: the turn limit was reached',
  budget: 'Stopped: a budget limit was reached',
  cancelled: 'Cancelled',
  model_error: 'Stopped: the model failed',
  context_overflow: 'Stopped: the conversation no longer fits the context window',
};

export class TranscriptModel {
  readonly state: TranscriptState;
  private readonly tools = new Map<string, ToolEntry>();
  /** Each tool entry's top-level entry index (a nested call's: its root `task` call's). */
  private readonly roots = new Map<ToolEntry, number>();
  private version = 0;
  private dirty = new Set<number>();
  private wasReset = false;

  constructor(sessionId: string) {
    this.state = {
      sessionId,
      title: '',
      entries: [],
      plan: [],
      usage: emptyUsage(),
      running: false,
      lastSeq: null,
      gaps: 0,
    };
  }

  /** Grows by one per change; a view re-renders when it moved. */
  get revision(): number {
    return this.version;
  }

  /** Forget everything (before `agent/session/load` replays the history). */
  reset(): void {
    const s = this.state;
    s.title = '';
    s.entries = [];
    s.plan = [];
    s.usage = emptyUsage();
    s.lastSeq = null;
    s.gaps = 0;
    this.tools.clear();
    this.roots.clear();
    this.dirty.clear();
    this.wasReset = true;
    this.version++;
  }

  /** The entries changed since the last call (and forget them). */
  takeChanges(): Changes {
    const changes = { full: this.wasReset, entries: [...this.dirty].sort((a, b) => a - b) };
    this.dirty.clear();
    this.wasReset = false;
    return changes;
  }

  private touch(index: number): void {
    if (index >= 0) {
      this.dirty.add(index);
    }
  }

  private touchLast(): void {
    this.touch(this.state.entries.length - 1);
  }

  private touchTool(entry: ToolEntry): void {
    this.touch(this.roots.get(entry) ?? -1);
  }

  /** After the server restarted: its `seq` numbering starts again. */
  forgetSeq(): void {
    this.state.lastSeq = null;
  }

  /** Apply one notification; false if it was for another session or seen already. */
  apply(params: SessionUpdateParams): boolean {
    if (params.sessionId !== this.state.sessionId) {
      return false;
    }
    const last = this.state.lastSeq;
    if (last !== null) {
      if (params.seq <= last) {
        return false; // a duplicate
      }
      if (params.seq !== last + 1) {
        this.state.gaps++;
        this.note('warning', `${params.seq - last - 1} update(s) were lost; resume the session to see everything.`);
      }
    }
    this.state.lastSeq = params.seq;
    this.applyUpdate(params.update);
    this.version++;
    return true;
  }

  setRunning(running: boolean): void {
    this.state.running = running;
    this.version++;
  }

  /** The prompt's result: a closing note, the tokens and cost. */
  finishPrompt(result: PromptResult): void {
    const s = this.state;
    s.running = false;
    s.usage.totalTokens += result.usage?.totalTokens ?? 0;
    if (typeof result.costUsd === 'number') {
      s.usage.runCost = result.costUsd;
    }
    for (const tool of this.tools.values()) {
      if (tool.status === 'pending' || tool.status === 'in_progress') {
        tool.status = 'failed'; // the prompt is over: this call will never finish
        this.touchTool(tool);
      }
    }
    const parts = [STOP_REASONS[result.stopReason] ?? result.stopReason];
    if (result.limit) {
      parts[0] += ` (${result.limit})`;
    }
    const tokens = result.usage?.totalTokens ?? 0;
    if (tokens) {
      parts.push(`${formatTokens(tokens)} tokens`);
    }
    if (typeof result.costUsd === 'number') {
      parts.push(formatCost(result.costUsd));
    }
    if (result.editedUris.length) {
      parts.push(`${result.editedUris.length} file(s) edited`);
    }
    const level = result.stopReason === 'end_turn' ? 'info' : result.error ? 'error' : 'warning';
    this.note(level, parts.join(' · ') + (result.error ? `\n${result.error}` : ''));
    this.version++;
  }

  /** A prompt that failed as a request (not a stop reason): show why. */
  failPrompt(message: string): void {
    this.state.running = false;
    this.note('error', message);
    this.version++;
  }

  noteUndo(result: UndoResult): void {
    const reverted = result.revertedUris.length;
    const conflicts = result.conflicts.length;
    const names = (uris: string[]) => uris.map((u) => decodeURIComponent(u.split('/').pop() ?? u)).join(', ');
    if (reverted) {
      let text = `Undid the last turn: reverted ${names(result.revertedUris)}.`;
      if (conflicts) {
        text += ` Left alone (changed since): ${names(result.conflicts)}.`;
      }
      this.note(conflicts ? 'warning' : 'info', text);
    } else if (conflicts) {
      this.note('warning', `Not undone: ${names(result.conflicts)} changed since the agent edited them.`);
    } else {
      this.note('info', 'Nothing to undo: the last turn edited no file.');
    }
    this.version++;
  }

  note(level: NoteEntry['level'], text: string): void {
    this.state.entries.push({ type: 'note', level, text });
    this.touchLast();
    this.version++;
  }

  tool(toolCallId: string): ToolEntry | undefined {
    return this.tools.get(toolCallId);
  }

  /** The answer text streamed so far (all agent messages, joined). */
  agentText(): string {
    return this.state.entries
      .filter((e): e is AgentEntry => e.type === 'agent')
      .map((e) => e.text)
      .join('\n\n');
  }

  /** The `task` call a sub-agent's update belongs to (known, else none: shown flat). */
  private parentOf(update: { parentToolCallId?: string | null }): ToolEntry | undefined {
    return update.parentToolCallId ? this.tools.get(update.parentToolCallId) : undefined;
  }

  /** A new tool entry: under its parent `task` call, else in the transcript. */
  private place(update: { parentToolCallId?: string | null }, entry: ToolEntry): void {
    const parent = this.parentOf(update);
    if (parent) {
      (parent.children ??= []).push(entry);
      this.roots.set(entry, this.roots.get(parent) ?? -1);
    } else {
      this.state.entries.push(entry);
      this.roots.set(entry, this.state.entries.length - 1);
    }
    this.touchTool(entry);
  }

  private applyUpdate(update: SessionUpdate): void {
    const s = this.state;
    switch (update.sessionUpdate) {
      case 'user_message_chunk': {
        const last = s.entries[s.entries.length - 1];
        if (last?.type === 'user') {
          last.text += update.content.text;
          this.touchLast();
          return;
        }
        // A new prompt: the previous prompt's cost becomes the session's earlier cost.
        if (s.usage.runCost !== null) {
          s.usage.earlierCost = (s.usage.earlierCost ?? 0) + s.usage.runCost;
          s.usage.runCost = null;
        }
        s.entries.push({ type: 'user', text: update.content.text });
        this.touchLast();
        if (!s.title) {
          s.title = titleOf(update.content.text); // until the server names the session
        }
        return;
      }
      case 'agent_message_chunk':
      case 'agent_thought_chunk': {
        const type = update.sessionUpdate === 'agent_message_chunk' ? 'agent' : 'thought';
        const parent = update.sessionUpdate === 'agent_thought_chunk' ? this.parentOf(update) : undefined;
        if (parent) {
          const children = (parent.children ??= []);
          const last = children[children.length - 1];
          if (last?.type === 'thought') {
            last.text += update.content.text;
          } else {
            children.push({ type: 'thought', text: update.content.text });
          }
          this.touchTool(parent);
          return;
        }
        const last = s.entries[s.entries.length - 1];
        if (last?.type === type) {
          last.text += update.content.text;
        } else {
          s.entries.push({ type, text: update.content.text });
        }
        this.touchLast();
        return;
      }
      case 'tool_call': {
        const entry: ToolEntry = {
          type: 'tool',
          toolCallId: update.toolCallId,
          title: update.title,
          kind: update.kind,
          status: 'pending',
          rawInput: update.rawInput ?? null,
          locations: update.locations ?? [],
          output: '',
          diffs: [],
        };
        const known = this.tools.get(update.toolCallId);
        if (known) {
          Object.assign(known, { ...entry, output: known.output, diffs: known.diffs });
          this.touchTool(known);
          return;
        }
        this.tools.set(update.toolCallId, entry);
        this.place(update, entry);
        return;
      }
      case 'tool_call_update': {
        let entry = this.tools.get(update.toolCallId);
        if (!entry) {
          // An update for a call we never saw start (a lost update): show it anyway.
          entry = {
            type: 'tool',
            toolCallId: update.toolCallId,
            title: update.toolCallId,
            kind: 'other',
            status: 'pending',
            locations: [],
            output: '',
            diffs: [],
          };
          this.tools.set(update.toolCallId, entry);
          this.place(update, entry);
        }
        if (update.status) {
          entry.status = update.status;
        }
        for (const item of update.content ?? []) {
          if (item.type === 'diff') {
            entry.diffs.push(item);
          } else if (item.type === 'content' && item.content?.type === 'text') {
            entry.output += item.content.text;
          }
        }
        this.touchTool(entry);
        return;
      }
      case 'plan':
        s.plan = update.entries.map((e) => ({
          content: e.content,
          priority: e.priority ?? 'medium',
          status: e.status ?? 'pending',
        }));
        return;
      case 'usage_update':
        s.usage.contextUsed = update.used;
        if (update.size !== undefined) {
          s.usage.contextSize = update.size ?? null;
        }
        if (update.cost) {
          s.usage.runCost = update.cost.amount;
        }
        return;
      case 'compaction': {
        const nested = Boolean(update.parentToolCallId);
        s.entries.push({
          type: 'compaction',
          method: update.method,
          reason: update.reason ?? 'threshold',
          tokensBefore: update.tokensBefore,
          tokensAfter: update.tokensAfter,
          nested,
        });
        this.touchLast();
        if (!nested) {
          s.usage.contextUsed = update.tokensAfter; // the meter drops now, not at the next turn
        }
        return;
      }
      case 'session_info_update':
        if (update.title) {
          s.title = update.title;
        }
        return;
      default:
        return; // a newer server's update kind: ignore it
    }
  }
}

/** A prompt's first line, as a session title. */
export function titleOf(prompt: string): string {
  const line = prompt.trim().split('\n')[0]?.trim() ?? '';
  return line.length <= 80 ? line : `${line.slice(0, 79)}…`;
}

function emptyUsage(): Usage {
  return { contextUsed: 0, contextSize: null, runCost: null, earlierCost: null, totalTokens: 0 };
}
