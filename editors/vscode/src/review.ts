/**
 * `agent/review` in VS Code: the agent's edit to one file opens in the diff editor (the
 * original and the proposed text as virtual read-only `lsp-agent-review:` documents), with
 * Accept / Reject CodeLenses over each hunk of the proposed side and Accept All / Reject All
 * in the editor title. The answer goes back once every hunk is decided; closing the tab
 * first answers `{closed: true}` (everything rejected). "file" granularity offers only the
 * whole file. The decisions themselves live in reviewHunks.ts.
 */

import * as vscode from 'vscode';
import { type Decision, ReviewDecisions, type ReviewHunk, type ReviewResult, checkReviewParams, describeLines } from './reviewHunks';
import { basename } from './transcript/render';

export const REVIEW_SCHEME = 'lsp-agent-review';

export const REVIEW_COMMANDS = {
  acceptHunk: 'lsp-agent.review.acceptHunk',
  rejectHunk: 'lsp-agent.review.rejectHunk',
  undoHunk: 'lsp-agent.review.undoHunk',
  acceptAll: 'lsp-agent.review.acceptAll',
  rejectAll: 'lsp-agent.review.rejectAll',
} as const;

interface OpenReview {
  key: string;
  decisions: ReviewDecisions;
  left: vscode.Uri;
  right: vscode.Uri;
  settled: boolean;
  resolve(result: ReviewResult): void;
}

/** Where a review command applies: a review key (CodeLens), a URI (editor title), or the active editor. */
type Target = string | vscode.Uri | undefined;

export class ReviewEditor implements vscode.TextDocumentContentProvider, vscode.CodeLensProvider, vscode.Disposable {
  private readonly reviews = new Map<string, OpenReview>();
  private readonly texts = new Map<string, string>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private next = 0;

  register(): vscode.Disposable {
    const c = REVIEW_COMMANDS;
    return vscode.Disposable.from(
      vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, this),
      vscode.languages.registerCodeLensProvider({ scheme: REVIEW_SCHEME }, this),
      vscode.commands.registerCommand(c.acceptHunk, (target?: Target, id?: number) => this.decideHunk(target, id, 'accepted')),
      vscode.commands.registerCommand(c.rejectHunk, (target?: Target, id?: number) => this.decideHunk(target, id, 'rejected')),
      vscode.commands.registerCommand(c.undoHunk, (target?: Target, id?: number) => this.undoHunk(target, id)),
      vscode.commands.registerCommand(c.acceptAll, (target?: Target) => this.decideAll(target, 'accepted')),
      vscode.commands.registerCommand(c.rejectAll, (target?: Target) => this.decideAll(target, 'rejected')),
      vscode.window.tabGroups.onDidChangeTabs((event) => {
        if (event.closed.length) {
          this.tabsClosed();
        }
      }),
      this,
    );
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** The `agent/review` request: resolves with the user's answer. Bad params throw (an error answer). */
  async review(raw: unknown, token?: vscode.CancellationToken): Promise<ReviewResult> {
    const params = checkReviewParams(raw);
    const decisions = new ReviewDecisions(params);
    if (!decisions.hunks.length) {
      return decisions.answer(); // nothing to decide
    }
    if (token?.isCancellationRequested) {
      return decisions.closedAnswer();
    }
    const key = String(this.next++);
    const name = basename(params.path);
    const side = (which: string) => vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `/${key}/${which}/${params.path.replace(/^\/+/, '')}` });
    const left = side('original');
    const right = side('proposed');
    this.texts.set(left.toString(), params.original);
    this.texts.set(right.toString(), params.proposed);
    let resolve!: (result: ReviewResult) => void;
    const answered = new Promise<ReviewResult>((r) => (resolve = r));
    const review: OpenReview = { key, decisions, left, right, settled: false, resolve };
    this.reviews.set(key, review);
    this.reviewing();
    const cancelled = token?.onCancellationRequested(() => this.finish(review, decisions.closedAnswer()));
    const n = decisions.hunks.length;
    const what = params.granularity === 'file' ? 'accept or reject' : `${n} change${n === 1 ? '' : 's'}`;
    try {
      await vscode.commands.executeCommand('vscode.diff', left, right, `Review: ${name} (${what})`, { preview: false });
    } catch (error) {
      this.finish(review, decisions.closedAnswer(), false);
      cancelled?.dispose();
      throw error;
    }
    this.lensesChanged.fire();
    try {
      return await answered;
    } finally {
      cancelled?.dispose();
    }
  }

  /** Reviews still waiting for the user. */
  get open(): number {
    return this.reviews.size;
  }

  // --- CodeLens on the proposed side -----------------------------------------------------------

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const review = this.byUri(document.uri);
    if (!review || review.right.toString() !== document.uri.toString()) {
      return [];
    }
    const { decisions, key } = review;
    const c = REVIEW_COMMANDS;
    const lens = (line: number, title: string, command: string, args: unknown[], tooltip?: string) =>
      new vscode.CodeLens(new vscode.Range(line, 0, line, 0), { title, command, arguments: args, tooltip });
    if (decisions.granularity === 'file') {
      return [
        lens(0, '$(check) Accept the whole edit', c.acceptAll, [key], 'Write the proposed text'),
        lens(0, '$(close) Reject it', c.rejectAll, [key], 'Leave the file unchanged'),
      ];
    }
    return decisions.hunks.flatMap((hunk) => {
      const line = decisions.anchorLine(hunk);
      const label = hunkLabel(hunk);
      const decision = decisions.decision(hunk.id);
      if (decision) {
        const mark = decision === 'accepted' ? '$(check) Accepted' : '$(close) Rejected';
        return [lens(line, `${mark} ${label}`, c.undoHunk, [key, hunk.id], 'Click to decide again')];
      }
      return [
        lens(line, `$(check) Accept ${label}`, c.acceptHunk, [key, hunk.id]),
        lens(line, '$(close) Reject', c.rejectHunk, [key, hunk.id]),
      ];
    });
  }

  // --- decisions --------------------------------------------------------------------------------

  decideHunk(target: Target, id: number | undefined, decision: Decision): boolean {
    const review = this.find(target);
    if (!review) {
      return false;
    }
    const hunk = id ?? this.hunkAtCursor(review)?.id;
    if (hunk === undefined) {
      void vscode.window.showInformationMessage('lsp-agent: put the cursor in a change of the proposed side first.');
      return false;
    }
    if (review.decisions.granularity === 'file') {
      return this.decideAll(review.key, decision);
    }
    if (!review.decisions.decide(hunk, decision)) {
      return false;
    }
    this.decided(review);
    return true;
  }

  undoHunk(target: Target, id: number | undefined): boolean {
    const review = this.find(target);
    if (!review || id === undefined || !review.decisions.undo(id)) {
      return false;
    }
    this.lensesChanged.fire();
    return true;
  }

  decideAll(target: Target, decision: Decision): boolean {
    const review = this.find(target);
    if (!review) {
      return false;
    }
    review.decisions.decideRest(decision, true);
    this.decided(review);
    return true;
  }

  private decided(review: OpenReview): void {
    if (review.decisions.done) {
      this.finish(review, review.decisions.answer());
    } else {
      this.lensesChanged.fire();
    }
  }

  /** Answer once; then forget the review and close its tab (unless the user closed it already). */
  private finish(review: OpenReview, result: ReviewResult, closeTab = true): void {
    if (review.settled) {
      return;
    }
    review.settled = true;
    this.reviews.delete(review.key);
    review.resolve(result);
    if (closeTab) {
      const tabs = this.tabsOf(review);
      if (tabs.length) {
        void Promise.resolve(vscode.window.tabGroups.close(tabs)).catch(() => undefined);
      }
    }
    this.texts.delete(review.left.toString());
    this.texts.delete(review.right.toString());
    this.lensesChanged.fire();
    this.reviewing();
  }

  /** The `lspAgent.reviewing` context key: Accept All / Reject All show in the palette. */
  private reviewing(): void {
    void Promise.resolve(vscode.commands.executeCommand('setContext', 'lspAgent.reviewing', this.reviews.size > 0)).catch(() => undefined);
  }

  /** A tab closed: a review whose diff no longer shows anywhere was closed without a decision. */
  private tabsClosed(): void {
    for (const review of [...this.reviews.values()]) {
      if (!this.tabsOf(review).length) {
        this.finish(review, review.decisions.closedAnswer(), false);
      }
    }
  }

  private tabsOf(review: OpenReview): vscode.Tab[] {
    const right = review.right.toString();
    return vscode.window.tabGroups.all.flatMap((group) =>
      group.tabs.filter((tab) => {
        const input = tab.input;
        return input instanceof vscode.TabInputTextDiff && input.modified.toString() === right;
      }),
    );
  }

  private byUri(uri: vscode.Uri): OpenReview | undefined {
    if (uri.scheme !== REVIEW_SCHEME) {
      return undefined;
    }
    const key = uri.path.split('/')[1];
    return key === undefined ? undefined : this.reviews.get(key);
  }

  /** The review a command means: by key, by URI, by the active diff tab, else the only one open. */
  private find(target: Target): OpenReview | undefined {
    if (typeof target === 'string') {
      return this.reviews.get(target);
    }
    if (target instanceof vscode.Uri) {
      return this.byUri(target);
    }
    const active = vscode.window.tabGroups.activeTabGroup?.activeTab?.input;
    if (active instanceof vscode.TabInputTextDiff) {
      const review = this.byUri(active.modified);
      if (review) {
        return review;
      }
    }
    const open = [...this.reviews.values()];
    if (open.length !== 1) {
      void vscode.window.showInformationMessage(
        open.length ? 'lsp-agent: open the review to decide first.' : 'lsp-agent: no agent edit is waiting for review.',
      );
      return undefined;
    }
    return open[0];
  }

  /** The hunk under the cursor, on either side of the diff (the "… at the Cursor" commands). */
  private hunkAtCursor(review: OpenReview): ReviewHunk | undefined {
    const editor = vscode.window.activeTextEditor;
    const uri = editor?.document.uri.toString();
    if (!editor || (uri !== review.right.toString() && uri !== review.left.toString())) {
      return undefined;
    }
    const proposed = uri === review.right.toString();
    const line = editor.selection.active.line;
    return review.decisions.hunks.find((h) => {
      const start = proposed ? review.decisions.anchorLine(h) : h.originalStart;
      const count = proposed ? h.proposedLines : h.originalLines;
      return line >= start && line < start + Math.max(1, count);
    });
  }

  dispose(): void {
    for (const review of [...this.reviews.values()]) {
      this.finish(review, review.decisions.closedAnswer(), false);
    }
    this.lensesChanged.dispose();
  }
}

/** "hunk 2 (lines 3-5)", as the lens names a hunk (the server numbers them so for the model too). */
export function hunkLabel(hunk: ReviewHunk): string {
  const where =
    hunk.proposedLines === 0 ? `deletes ${describeLines(hunk.originalStart, hunk.originalLines)}` : describeLines(hunk.proposedStart, hunk.proposedLines);
  return `hunk ${hunk.id + 1} (${where})`;
}
