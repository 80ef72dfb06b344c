/**
 * The decisions of one `agent/review` (review-spec: per-hunk review of an agent edit), kept
 * apart from VS Code so the answer logic is tested on its own: which hunks the user accepted
 * or rejected, whether every hunk is decided, and the answer the server gets.
 * Nothing here imports `vscode`.
 */

import type { ReviewGranularity, ReviewHunk, ReviewParams, ReviewResult } from './protocol';

export type { ReviewHunk, ReviewParams, ReviewResult };

export type Decision = 'accepted' | 'rejected';

export class BadReview extends Error {}

function isInt(value: unknown, min = 0): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/** The request's params, checked: a clear error (answered to the server) instead of a crash. */
export function checkReviewParams(raw: unknown): ReviewParams {
  const p = raw as Partial<ReviewParams> | null;
  if (!p || typeof p !== 'object') {
    throw new BadReview('agent/review: the params are not an object');
  }
  for (const key of ['sessionId', 'toolCallId', 'uri', 'path', 'original', 'proposed'] as const) {
    if (typeof p[key] !== 'string') {
      throw new BadReview(`agent/review: "${key}" is not a string`);
    }
  }
  if (p.granularity !== 'hunks' && p.granularity !== 'file') {
    throw new BadReview(`agent/review: unknown granularity ${JSON.stringify(p.granularity)}`);
  }
  if (!Array.isArray(p.hunks)) {
    throw new BadReview('agent/review: "hunks" is not a list');
  }
  const ids = new Set<number>();
  for (const h of p.hunks as Array<Partial<ReviewHunk>>) {
    if (!h || typeof h !== 'object' || !isInt(h.id) || ids.has(h.id)) {
      throw new BadReview('agent/review: a hunk has no id, or a repeated one');
    }
    ids.add(h.id);
    for (const key of ['originalStart', 'originalLines', 'proposedStart', 'proposedLines'] as const) {
      if (!isInt(h[key])) {
        throw new BadReview(`agent/review: hunk ${h.id}: "${key}" is not a line number or count`);
      }
    }
  }
  return { ...(p as ReviewParams), title: typeof p.title === 'string' ? p.title : `Edit ${p.path}` };
}

/** Lines of a text, as the server counts them ("\n" endings; a final newline ends the last line). */
export function lineCount(text: string): number {
  if (!text) {
    return 0;
  }
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** "lines 3-5" (1-based, as a user reads them), "line 3", or "after line 2" for an insertion. */
export function describeLines(start: number, count: number): string {
  if (count === 0) {
    return start === 0 ? 'at the start' : `after line ${start}`;
  }
  return count === 1 ? `line ${start + 1}` : `lines ${start + 1}-${start + count}`;
}

export class ReviewDecisions {
  private readonly decisions = new Map<number, Decision>();
  readonly granularity: ReviewGranularity;
  readonly hunks: readonly ReviewHunk[];

  constructor(readonly params: ReviewParams) {
    this.granularity = params.granularity;
    this.hunks = [...params.hunks].sort((a, b) => a.id - b.id);
  }

  get ids(): number[] {
    return this.hunks.map((h) => h.id);
  }

  decision(id: number): Decision | undefined {
    return this.decisions.get(id);
  }

  /** Decide one hunk; false (nothing changes) for an unknown id or in "file" granularity. */
  decide(id: number, decision: Decision): boolean {
    if (this.granularity === 'file' || !this.hunks.some((h) => h.id === id)) {
      return false;
    }
    this.decisions.set(id, decision);
    return true;
  }

  /** Take a hunk's decision back (before the answer is sent). */
  undo(id: number): boolean {
    return this.decisions.delete(id);
  }

  /** Decide every hunk still open (or, with `all`, every hunk) the same way. */
  decideRest(decision: Decision, all = false): void {
    for (const id of this.ids) {
      if (all || !this.decisions.has(id)) {
        this.decisions.set(id, decision);
      }
    }
  }

  get pending(): number[] {
    return this.ids.filter((id) => !this.decisions.has(id));
  }

  get done(): boolean {
    return this.pending.length === 0;
  }

  /** The answer: every hunk not accepted counts as rejected, as the server reads it. */
  answer(): ReviewResult {
    const accepted = this.ids.filter((id) => this.decisions.get(id) === 'accepted');
    return { accepted, rejected: this.ids.filter((id) => !accepted.includes(id)) };
  }

  /** The user closed the review without deciding: everything is rejected, and the server is told so. */
  closedAnswer(): ReviewResult {
    return { accepted: [], rejected: this.ids, closed: true };
  }

  /** "2 of 3 hunks decided", for the diff editor's title and the status. */
  progress(): string {
    if (this.granularity === 'file') {
      return 'accept or reject the whole file';
    }
    const n = this.hunks.length;
    const decided = n - this.pending.length;
    return `${decided} of ${n} hunk${n === 1 ? '' : 's'} decided`;
  }

  /**
   * The line of the proposed text a hunk's Accept/Reject goes above: its first proposed line;
   * for a deletion, the line that follows it (the last line when it removed the end).
   */
  anchorLine(hunk: ReviewHunk): number {
    const last = Math.max(0, lineCount(this.params.proposed) - 1);
    return Math.min(hunk.proposedStart, last);
  }

  /** The text with only the accepted hunks applied (what the server will write). */
  resultText(): string {
    const lines = splitLines(this.params.original);
    const out: string[] = [];
    let at = 0;
    for (const hunk of [...this.hunks].sort((a, b) => a.originalStart - b.originalStart)) {
      out.push(...lines.slice(at, hunk.originalStart));
      if (this.decisions.get(hunk.id) === 'accepted') {
        out.push(...splitLines(hunk.proposedText));
      } else {
        out.push(...lines.slice(hunk.originalStart, hunk.originalStart + hunk.originalLines));
      }
      at = hunk.originalStart + hunk.originalLines;
    }
    out.push(...lines.slice(at));
    return out.join('');
  }
}

/** Lines with their "\n" kept. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
