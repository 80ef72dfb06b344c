/**
 * The server's code-action commands (`lspAgent.fix`, `lspAgent.ask`, `lspAgent.run`) turned
 * into a prompt and its editor context for `agent/session/prompt`. The extension runs them in
 * its current session instead of letting the server start a headless one, so the transcript,
 * the status bar, Cancel and Undo follow them. Pure: the Node test uses it too.
 */

import type { AskCommandArgs, Diagnostic, FixCommandArgs, PromptContext, Range, RunCommandArgs } from './protocol';

export const FIX_PROMPT = 'Fix these problems. Make the smallest correct change, then say what you changed.';
export const FIX_FILE_PROMPT = 'Fix the problems in this file. Make the smallest correct changes, then say what you changed.';

export interface PromptRequest {
  prompt: string;
  context?: PromptContext;
}

export class BadCommandArguments extends Error {}

function isRange(value: unknown): value is Range {
  const r = value as Range | undefined;
  return !!r && typeof r.start?.line === 'number' && typeof r.end?.line === 'number';
}

/** "Ask agent to fix: …" */
export function fixRequest(raw: unknown): PromptRequest {
  const args = raw as Partial<FixCommandArgs> | undefined;
  if (!args || typeof args.uri !== 'string' || !isRange(args.range)) {
    throw new BadCommandArguments('lspAgent.fix needs { uri, range, diagnostics }');
  }
  return {
    prompt: FIX_PROMPT,
    context: { textDocument: { uri: args.uri }, range: args.range, diagnostics: args.diagnostics ?? [] },
  };
}

/** "Ask agent about selection": the server leaves the prompt to the client. */
export function askRequest(raw: unknown, prompt?: string): PromptRequest {
  const args = raw as Partial<AskCommandArgs> | undefined;
  if (!args || typeof args.uri !== 'string' || !isRange(args.range)) {
    throw new BadCommandArguments('lspAgent.ask needs { uri, range }');
  }
  const text = (prompt ?? args.prompt ?? '').trim();
  if (!text) {
    throw new BadCommandArguments('lspAgent.ask needs a prompt');
  }
  return { prompt: text, context: { textDocument: { uri: args.uri }, range: args.range } };
}

export function runRequest(raw: unknown): PromptRequest {
  const args = raw as Partial<RunCommandArgs> | undefined;
  const prompt = typeof args?.prompt === 'string' ? args.prompt.trim() : '';
  if (!prompt) {
    throw new BadCommandArguments('lspAgent.run needs { prompt }');
  }
  if (typeof args?.uri !== 'string') {
    return { prompt };
  }
  return { prompt, context: { textDocument: { uri: args.uri }, ...(isRange(args.range) ? { range: args.range } : {}) } };
}

/** The smallest range covering every diagnostic. */
export function covering(diagnostics: Diagnostic[]): Range | undefined {
  if (!diagnostics.length) {
    return undefined;
  }
  const key = (p: { line: number; character: number }) => p.line * 1e6 + p.character;
  let start = diagnostics[0]!.range.start;
  let end = diagnostics[0]!.range.end;
  for (const d of diagnostics) {
    if (key(d.range.start) < key(start)) {
      start = d.range.start;
    }
    if (key(d.range.end) > key(end)) {
      end = d.range.end;
    }
  }
  return { start: { ...start }, end: { ...end } };
}

/** "Agent: Fix Problems in This File": the file's errors and warnings as context. */
export function fixFileRequest(uri: string, version: number | undefined, diagnostics: Diagnostic[]): PromptRequest {
  return {
    prompt: FIX_FILE_PROMPT,
    context: { textDocument: { uri, ...(version !== undefined ? { version } : {}) }, range: covering(diagnostics), diagnostics },
  };
}
