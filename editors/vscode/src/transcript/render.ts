/**
 * The transcript state as HTML for the webview: markdown for the assistant, a block per tool
 * call (icon per kind, status, expandable output, diff buttons), the plan and the usage.
 * Pure: the unit tests check the rendered state without a webview.
 */

import MarkdownIt from 'markdown-it';
import type { DiffItem, PlanEntry } from '../protocol';
import {
  type AgentEntry,
  type CompactionEntry,
  type Entry,
  PLAN_ICON,
  type ToolEntry,
  type TranscriptState,
  formatCost,
  formatTokens,
  sessionCost,
  statusIcon,
  toolIcon,
} from './model';

/** Raw HTML in model output is shown as text, never interpreted. */
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

/** How the server introduces the editor context it appends to a prompt (editor_context.py). */
const CONTEXT_MARK = '\n\nEditor context:';

/** Show at most this many characters of one tool's output (the end of it). */
export const OUTPUT_SHOWN = 20_000;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}

/**
 * A streamed answer as markdown blocks: the text up to its last blank line outside a code
 * fence is split into blocks rendered once and kept; only the tail after it is rendered
 * again as it grows. Each frame costs what arrived since the last, not the whole answer.
 */
interface Blocks {
  /** Characters of the text already split into `html` blocks. */
  cut: number;
  /** Where the scan for the next cut resumes, and whether it is inside a code fence there. */
  scanned: number;
  fence: boolean;
  html: string[];
}

const blocksOf = new WeakMap<AgentEntry, Blocks>();

export function agentBlocks(entry: AgentEntry): { blocks: string[]; tail: string } {
  let b = blocksOf.get(entry);
  if (!b || entry.text.length < b.cut) {
    b = { cut: 0, scanned: 0, fence: false, html: [] };
    blocksOf.set(entry, b);
  }
  const text = entry.text;
  let cut = b.cut;
  let at = b.scanned;
  let fence = b.fence;
  for (;;) {
    const end = text.indexOf('\n', at);
    if (end < 0) {
      break; // the last line may still grow: scan it again next time
    }
    const line = text.slice(at, end);
    if (/^\s{0,3}(```|~~~)/.test(line)) {
      fence = !fence;
    } else if (!fence && line.trim() === '' && at > cut) {
      // a blank line outside a fence: everything before it is a finished block
      b.html.push(renderMarkdown(text.slice(cut, at)));
      cut = end + 1;
    }
    at = end + 1;
  }
  b.cut = cut;
  b.scanned = at;
  b.fence = fence;
  return { blocks: b.html, tail: renderMarkdown(text.slice(cut)) };
}

function renderAgent(entry: AgentEntry): string {
  const { blocks, tail } = agentBlocks(entry);
  const stable = blocks.map((html) => `<div class="md-block">${html}</div>`).join('');
  return `<div class="entry agent markdown"><div class="md-blocks">${stable}</div><div class="md-tail">${tail}</div></div>`;
}

function icon(name: string, extra = ''): string {
  const [id, modifier] = name.split('~');
  const cls = `codicon codicon-${id}${modifier ? ` codicon-modifier-${modifier}` : ''}`;
  return `<span class="${cls}${extra ? ` ${extra}` : ''}" aria-hidden="true"></span>`;
}

export function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Lines added and removed, counted as multisets (cheap, good enough for a label). */
export function diffStats(diff: Pick<DiffItem, 'oldText' | 'newText'>): { added: number; removed: number } {
  const before = diff.oldText === null ? [] : diff.oldText.split('\n');
  const after = diff.newText.split('\n');
  const counts = new Map<string, number>();
  for (const line of before) {
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  let added = 0;
  for (const line of after) {
    const n = counts.get(line) ?? 0;
    if (n > 0) {
      counts.set(line, n - 1);
    } else {
      added++;
    }
  }
  let removed = 0;
  for (const n of counts.values()) {
    removed += n;
  }
  return { added, removed };
}

function renderTool(tool: ToolEntry): string {
  const id = escapeHtml(tool.toolCallId);
  const status = tool.status.replace('_', ' ');
  const parts = [
    `<details class="tool status-${tool.status}" data-key="tool:${id}">`,
    `<summary>${icon(toolIcon(tool.kind), 'kind')} <span class="title">${escapeHtml(tool.title)}</span>`,
    ` <span class="status" title="${status}">${icon(statusIcon(tool.status))} ${status}</span></summary>`,
  ];
  if (tool.locations.length) {
    const links = tool.locations.map((loc) => {
      const line = typeof loc.line === 'number' ? loc.line : '';
      const label = basename(loc.path) + (line !== '' ? `:${line}` : '');
      return `<a href="#" class="location" data-path="${escapeHtml(loc.path)}" data-line="${line}">${escapeHtml(label)}</a>`;
    });
    parts.push(`<div class="locations">${links.join(' ')}</div>`);
  }
  if (tool.output) {
    let shown = tool.output;
    if (shown.length > OUTPUT_SHOWN) {
      shown = `… (${shown.length - OUTPUT_SHOWN} characters before)\n` + shown.slice(-OUTPUT_SHOWN);
    }
    parts.push(`<pre class="output">${escapeHtml(shown)}</pre>`);
  }
  if (tool.children?.length) {
    // A `task` call's sub-agent: its tool calls and text, nested (open while it runs).
    const nested = tool.children.map((child, index) =>
      child.type === 'tool'
        ? `<div class="entry nested">${renderTool(child)}</div>`
        : `<div class="entry nested thought markdown" data-key="thought:${id}:${index}">${renderMarkdown(child.text)}</div>`,
    );
    parts.push(`<div class="children">${nested.join('')}</div>`);
  }
  parts.push('</details>');
  // Edits stay visible (outside the collapsed block): one click opens the diff editor.
  const buttons: string[] = [];
  tool.diffs.forEach((diff, index) => {
    const { added, removed } = diffStats(diff);
    const verb = diff.oldText === null ? 'Created' : 'Edited';
    buttons.push(
      `<button class="diff" data-tool="${id}" data-index="${index}" title="${escapeHtml(diff.path)}">` +
        `${icon('diff')} ${verb} ${escapeHtml(basename(diff.path))} ` +
        `<span class="added">+${added}</span> <span class="removed">−${removed}</span></button>`,
    );
  });
  if (buttons.length) {
    parts.push(`<div class="diffs">${buttons.join('')}</div>`);
  }
  return parts.join('');
}

const COMPACTED: Record<string, string> = {
  snip: 'old tool outputs removed',
  summarize: 'older turns summarized',
  clear: 'conversation cleared',
};

/** "Context compacted: older turns summarized, 3.9k → 2k tokens" */
export function compactionLine(entry: CompactionEntry): string {
  const what = COMPACTED[entry.method] ?? entry.method;
  const why = entry.reason === 'overflow' ? " (the server's context overflowed)" : '';
  const who = entry.nested ? 'Sub-agent context compacted' : 'Context compacted';
  return `${who}: ${what}${why}, ${formatTokens(entry.tokensBefore)} → ${formatTokens(entry.tokensAfter)} tokens`;
}

/** One entry: always a single root element (the page swaps entries by position). */
export function renderEntry(entry: Entry, index: number): string {
  switch (entry.type) {
    case 'user': {
      // The server appends the editor context to the prompt: show it quieter, folded.
      const at = entry.text.indexOf(CONTEXT_MARK);
      const prompt = at >= 0 ? entry.text.slice(0, at) : entry.text;
      const context =
        at >= 0
          ? `<details class="context" data-key="context:${index}"><summary>${escapeHtml(entry.text.slice(at + 2).split('\n')[0]!)}</summary>` +
            `<pre>${escapeHtml(entry.text.slice(at + 2))}</pre></details>`
          : '';
      return `<div class="entry user">${icon('account')}<div class="text">${escapeHtml(prompt)}${context}</div></div>`;
    }
    case 'agent':
      return renderAgent(entry);
    case 'thought':
      return (
        `<details class="entry thought" data-key="thought:${index}"><summary>${icon('lightbulb')} Thinking</summary>` +
        `<div class="markdown">${renderMarkdown(entry.text)}</div></details>`
      );
    case 'tool':
      return `<div class="entry">${renderTool(entry)}</div>`;
    case 'compaction':
      return `<div class="entry note compaction">${icon('fold')} <span>${escapeHtml(compactionLine(entry))}</span></div>`;
    case 'note': {
      const name = entry.level === 'error' ? 'error' : entry.level === 'warning' ? 'warning' : 'info';
      return `<div class="entry note ${entry.level}">${icon(name)} <span>${escapeHtml(entry.text)}</span></div>`;
    }
  }
}

export function renderPlan(plan: PlanEntry[]): string {
  if (!plan.length) {
    return '';
  }
  const items = plan.map((e) => {
    const status = e.status ?? 'pending';
    return (
      `<li class="plan-${status} priority-${e.priority ?? 'medium'}">` +
      `${icon(PLAN_ICON[status] ?? PLAN_ICON.pending)} ${escapeHtml(e.content)}</li>`
    );
  });
  return `<section class="plan"><h3>${icon('checklist')} Plan</h3><ul>${items.join('')}</ul></section>`;
}

/** "Context 1.2k / 32k tokens · 3.4k tokens · $0.0012" */
export function usageLine(state: TranscriptState): string {
  const u = state.usage;
  const parts: string[] = [];
  if (u.contextUsed) {
    const size = u.contextSize ? ` / ${formatTokens(u.contextSize)}` : '';
    parts.push(`context ${formatTokens(u.contextUsed)}${size}`);
  }
  if (u.totalTokens) {
    parts.push(`${formatTokens(u.totalTokens)} tokens`);
  }
  const cost = sessionCost(u);
  if (cost !== null) {
    parts.push(formatCost(cost));
  }
  return parts.join(' · ');
}

/** The title and the plan, above the entries. */
export function renderHead(state: TranscriptState): string {
  const title = state.title ? `<h2 class="session-title">${escapeHtml(state.title)}</h2>` : '';
  return `${title}${renderPlan(state.plan)}`;
}

/** Below the entries: working…, the empty hint, the usage line. */
export function renderFoot(state: TranscriptState): string {
  const usage = usageLine(state);
  const running = state.running ? `<div class="running">${icon('loading~spin')} Working…</div>` : '';
  const empty = state.entries.length ? '' : '<p class="empty">Ask the agent something: run <b>Agent: Ask…</b>.</p>';
  const footer = usage ? `<footer class="usage">${icon('dashboard')} ${escapeHtml(usage)}</footer>` : '';
  return `${running}${empty}${footer}`;
}

/** The whole page (a first render, a reset, another session); updates then patch it. */
export function renderTranscript(state: TranscriptState): string {
  const body = state.entries.map(renderEntry).join('');
  return (
    `<div class="head">${renderHead(state)}</div><div class="entries">${body}</div>` +
    `<div class="foot">${renderFoot(state)}</div>`
  );
}

/** A patch for the page: the head and foot, and only the entries that changed. */
export interface TranscriptPatch {
  type: 'patch';
  head: string;
  foot: string;
  /**
   * Entries to replace (index < shown) or append (in order, index = shown count); a growing
   * answer the page has already gets only its new blocks (`from` = how many it has) and tail.
   */
  entries: Array<EntryPatch>;
}

export type EntryPatch =
  | { index: number; html: string }
  | { index: number; from: number; blocks: string[]; tail: string };

/**
 * `sent` maps an answer's entry index to the blocks the page has of it (updated here); a
 * caller that sends the whole page again clears it.
 */
export function renderPatch(state: TranscriptState, changed: number[], sent?: Map<number, number>): TranscriptPatch {
  const entries = changed
    .filter((i) => i < state.entries.length)
    .map((index): EntryPatch => {
      const entry = state.entries[index]!;
      if (entry.type !== 'agent' || !sent) {
        return { index, html: renderEntry(entry, index) };
      }
      const { blocks, tail } = agentBlocks(entry);
      const from = sent.get(index);
      sent.set(index, blocks.length);
      if (from === undefined || from > blocks.length) {
        return { index, html: renderEntry(entry, index) };
      }
      return { index, from, blocks: blocks.slice(from), tail };
    });
  return { type: 'patch', head: renderHead(state), foot: renderFoot(state), entries };
}
