/**
 * Completion in the "Ask the agent" box: `/` at the start lists the slash commands (the
 * server's `agent/commands`), `@` lists workspace files to mention. Pure functions, so the
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

/** Files whose path contains what is typed, those whose name starts with it first. */
export function mentionSuggestions(text: string, files: readonly string[]): Suggestion[] {
  const typed = text.toLowerCase();
  const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const rank = (path: string): number => (base(path).startsWith(typed) ? 0 : 1);
  const found: Suggestion[] = [];
  const sorted = files
    .filter((path) => path.toLowerCase().includes(typed))
    .sort((a, b) => rank(a) - rank(b) || a.length - b.length || a.localeCompare(b));
  for (const path of sorted) {
    const insert = mentionOf(path);
    if (insert) {
      found.push({ label: path, insert: `${insert} ` });
    }
    if (found.length === MAX_FILES) {
      break;
    }
  }
  return found;
}

/** The value with the token replaced by the chosen suggestion. */
export function applySuggestion(value: string, token: Token, suggestion: Suggestion): string {
  return value.slice(0, token.start) + suggestion.insert;
}
