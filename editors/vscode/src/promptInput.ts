/**
 * Completion in the "Ask the agent" box: `/` at the start lists the slash commands (the
 * server's `agent/commands`), `@` lists `@problems`, `@selection` and workspace files to
 * mention, and `@file:` the file's line ranges (`@file:10-20`). Pure functions, so the
 * unit tests need no VS Code; `commands.ts` wires them to a QuickPick.
 */

import type { SlashCommand } from './protocol';

export interface Token {
  kind: 'command' | 'mention';
  /** Where the token (its `/` or `@`) starts in the value. */
  start: number;
  /** What is typed after the `/` or `@`. */
  text: string;
}

export interface Suggestion {
  label: string;
  description?: string;
  /** What replaces the token. */
  insert: string;
}

const MAX_FILES = 50;
// The server's bare mention spelling (lsp_agent/agent/mentions.py): others are quoted.
const BARE = /^[\w./~+-]*[\w/~+-]$/;

/** The token being typed at the end of the value, if it is one we complete. */
export function activeToken(value: string): Token | undefined {
  const command = /^\/([\w.-]*)$/.exec(value);
  if (command) {
    return { kind: 'command', start: 0, text: command[1] ?? '' };
  }
  const mention = /(?:^|\s)@([^\s@"]*)$/.exec(value);
  if (mention) {
    const text = mention[1] ?? '';
    return { kind: 'mention', start: value.length - text.length - 1, text };
  }
  return undefined;
}

/** How a prompt mentions a workspace file (undefined for a name no mention can spell). */
export function mentionOf(path: string): string | undefined {
  if (BARE.test(path)) {
    return `@${path}`;
  }
  return path.includes('"') || path.includes('\n') ? undefined : `@"${path}"`;
}

export function commandSuggestions(text: string, commands: readonly SlashCommand[]): Suggestion[] {
  const typed = text.toLowerCase();
  return commands
    .filter((c) => c.name.startsWith(typed))
    .map((c) => ({
      label: `/${c.name}${c.hint ? ` ${c.hint}` : ''}`,
      description: c.source === 'builtin' ? c.description : `${c.description} (${c.source})`,
      insert: `/${c.name} `,
    }));
}

/** The mentions only the editor fills in (src/editorMentions.ts). */
export const EDITOR_MENTIONS: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'problems', description: 'The current diagnostics (Problems panel)' },
  { name: 'selection', description: 'The selected lines of the active editor' },
];

/** The active editor's selection, as a mention's range would name it. */
export interface SelectionLines {
  /** As `workspaceFiles` spells it. */
  path: string;
  first: number;
  last: number;
}

/** `@file:` completes to a line range: the selection's, or the one being typed. */
function rangeSuggestions(path: string, typed: string, selection?: SelectionLines): Suggestion[] {
  const mention = mentionOf(path);
  if (!mention) {
    return [];
  }
  const out: Suggestion[] = [];
  if (selection?.path === path) {
    const lines = selection.first === selection.last ? `${selection.first}` : `${selection.first}-${selection.last}`;
    out.push({ label: `${path}:${lines}`, description: 'The selected lines', insert: `${mention}:${lines} ` });
  }
  const complete = /^[1-9]\d*(?:-[1-9]\d*)?$/.exec(typed);
  if (complete && !out.some((s) => s.label === `${path}:${typed}`)) {
    out.push({ label: `${path}:${typed}`, description: typed.includes('-') ? `Lines ${typed}` : `Line ${typed}`, insert: `${mention}:${typed} ` });
  }
  if (!out.length) {
    out.push({ label: `${path}:${typed}…`, description: 'Type a line (:10) or a range (:10-20)', insert: `${mention}:${typed}` });
  }
  return out;
}

/**
 * `@problems` and `@selection` first, then files whose path contains what is typed (those
 * whose name starts with it first); after `file:`, its line ranges.
 */
export function mentionSuggestions(text: string, files: readonly string[], selection?: SelectionLines): Suggestion[] {
  const ranged = /^(.+):(\d*(?:-\d*)?)$/.exec(text);
  if (ranged && files.includes(ranged[1] ?? '')) {
    return rangeSuggestions(ranged[1] ?? '', ranged[2] ?? '', selection);
  }
  const typed = text.toLowerCase();
  const special: Suggestion[] = EDITOR_MENTIONS.filter((m) => m.name.startsWith(typed)).map((m) => ({
    label: `@${m.name}`,
    description: m.description,
    insert: `@${m.name} `,
  }));
  const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const rank = (path: string): number => (base(path).startsWith(typed) ? 0 : 1);
  const found: Suggestion[] = [...special];
  const sorted = files
    .filter((path) => path.toLowerCase().includes(typed))
    .sort((a, b) => rank(a) - rank(b) || a.length - b.length || a.localeCompare(b));
  for (const path of sorted) {
    const insert = mentionOf(path);
    if (insert) {
      found.push({ label: path, insert: `${insert} ` });
      if (selection?.path === path) {
        found.push(...rangeSuggestions(path, '', selection));
      }
    }
    if (found.length >= MAX_FILES) {
      break;
    }
  }
  return found;
}

/** The value with the token replaced by the chosen suggestion. */
export function applySuggestion(value: string, token: Token, suggestion: Suggestion): string {
  return value.slice(0, token.start) + suggestion.insert;
}
