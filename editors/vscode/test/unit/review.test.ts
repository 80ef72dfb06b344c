/** agent/review: the hunk decisions (pure) and the diff-editor review against the mocked `vscode`. */

import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentCommands } from '../../src/commands';
import { AgentController, type Connection } from '../../src/controller';
import type { ReviewParams } from '../../src/protocol';
import { REVIEW_COMMANDS, REVIEW_SCHEME, ReviewEditor, hunkLabel } from '../../src/review';
import { BadReview, ReviewDecisions, checkReviewParams, describeLines, lineCount } from '../../src/reviewHunks';
import { statusView } from '../../src/statusBar';
import { TranscriptModel } from '../../src/transcript/model';
import * as vscode from '../vscode.mock';

const ORIGINAL = 'def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n';
/** Three hunks: line 2 changed, a line inserted after line 3, the last two lines deleted. */
const PROPOSED = 'def add(a, b):\n    return a + b\n\n# subtraction\n\n';

function params(granularity: 'hunks' | 'file' = 'hunks'): ReviewParams {
  return {
    sessionId: 's1',
    toolCallId: 'c1',
    title: 'Edit app.py',
    uri: 'file:///ws/app.py',
    path: 'app.py',
    version: 3,
    granularity,
    original: ORIGINAL,
    proposed: PROPOSED,
    hunks: [
      { id: 0, originalStart: 1, originalLines: 1, proposedStart: 1, proposedLines: 1, originalText: '    return a - b\n', proposedText: '    return a + b\n' },
      { id: 1, originalStart: 3, originalLines: 0, proposedStart: 3, proposedLines: 1, originalText: '', proposedText: '# subtraction\n' },
      {
        id: 2,
        originalStart: 4,
        originalLines: 2,
        proposedStart: 5,
        proposedLines: 0,
        originalText: 'def sub(a, b):\n    return a - b\n',
        proposedText: '',
      },
    ],
  };
}

describe('the hunk decisions', () => {
  it('answers the accepted hunks, and every other one as rejected', () => {
    const d = new ReviewDecisions(params());
    expect(d.decide(0, 'accepted')).toBe(true);
    expect(d.done).toBe(false);
    expect(d.progress()).toBe('1 of 3 hunks decided');
    d.decide(2, 'rejected');
    d.decide(1, 'accepted');
    expect(d.done).toBe(true);
    expect(d.answer()).toEqual({ accepted: [0, 1], rejected: [2] });
    // the text the server will write: hunks 0 and 1 in, hunk 2 (the deletion) out
    expect(d.resultText()).toBe('def add(a, b):\n    return a + b\n\n# subtraction\n\ndef sub(a, b):\n    return a - b\n');
  });

  it('takes a decision back, and decides the rest at once', () => {
    const d = new ReviewDecisions(params());
    d.decide(1, 'accepted');
    expect(d.undo(1)).toBe(true);
    expect(d.pending).toEqual([0, 1, 2]);
    d.decide(0, 'rejected');
    d.decideRest('accepted');
    expect(d.answer()).toEqual({ accepted: [1, 2], rejected: [0] });
    d.decideRest('rejected', true);
    expect(d.answer()).toEqual({ accepted: [], rejected: [0, 1, 2] });
    expect(d.resultText()).toBe(ORIGINAL);
  });

  it('refuses unknown hunks, and single hunks in "file" granularity', () => {
    const d = new ReviewDecisions(params());
    expect(d.decide(7, 'accepted')).toBe(false);
    const file = new ReviewDecisions(params('file'));
    expect(file.decide(0, 'accepted')).toBe(false);
    expect(file.progress()).toBe('accept or reject the whole file');
    file.decideRest('accepted');
    expect(file.answer()).toEqual({ accepted: [0, 1, 2], rejected: [] });
    expect(file.resultText()).toBe(PROPOSED);
  });

  it('a closed review rejects everything and says it was closed', () => {
    const d = new ReviewDecisions(params());
    d.decide(0, 'accepted');
    expect(d.closedAnswer()).toEqual({ accepted: [], rejected: [0, 1, 2], closed: true });
  });

  it('anchors a deletion at the end on the last line', () => {
    const d = new ReviewDecisions(params());
    expect(d.hunks.map((h) => d.anchorLine(h))).toEqual([1, 3, 4]);
    expect(lineCount(PROPOSED)).toBe(5);
    expect(lineCount('a')).toBe(1);
    expect(lineCount('')).toBe(0);
  });

  it('names hunks by their lines, as the user reads them', () => {
    const [changed, inserted, deleted] = params().hunks;
    expect(hunkLabel(changed!)).toBe('hunk 1 (line 2)');
    expect(hunkLabel(inserted!)).toBe('hunk 2 (line 4)');
    expect(hunkLabel(deleted!)).toBe('hunk 3 (deletes lines 5-6)');
    expect(describeLines(0, 0)).toBe('at the start');
    expect(describeLines(2, 0)).toBe('after line 2');
  });

  it('rejects malformed params with a clear error', () => {
    expect(() => checkReviewParams(null)).toThrow(BadReview);
    expect(() => checkReviewParams({ ...params(), granularity: 'lines' })).toThrow('unknown granularity "lines"');
    expect(() => checkReviewParams({ ...params(), hunks: 'all' })).toThrow('"hunks" is not a list');
    const repeated = params();
    repeated.hunks[1]!.id = 0;
    expect(() => checkReviewParams(repeated)).toThrow('repeated');
    const bad = params();
    (bad.hunks[0] as { proposedStart: unknown }).proposedStart = -1;
    expect(() => checkReviewParams(bad)).toThrow('hunk 0: "proposedStart"');
    expect(() => checkReviewParams({ ...params(), original: undefined })).toThrow('"original" is not a string');
  });
});

/** A review opened through the mock: the diff tab, its documents, and the lenses on the proposed side. */
async function opened(editor: Driven, p: ReviewParams = params(), token?: vscode.CancellationTokenSource['token']) {
  const answer = editor.review(p, token as never);
  await vi.waitFor(() => expect(vscode.tabGroups.tabs).toHaveLength(1));
  const tab = vscode.tabGroups.tabs[0]!;
  const input = tab.input as vscode.TabInputTextDiff;
  const lenses = () => editor.provideCodeLenses({ uri: input.modified } as never);
  /** Click the lens whose title contains `title`, over the hunk anchored at `line`. */
  const click = (title: string, line?: number) => {
    const lens = lenses().find((l) => l.command!.title.includes(title) && (line === undefined || l.range.start.line === line));
    if (!lens) {
      throw new Error(`no lens "${title}" at ${line}: ${lenses().map((l) => `${l.range.start.line}:${l.command!.title}`).join(', ')}`);
    }
    return editor[commandMethod(lens.command!.command)](...(lens.command!.arguments as [string, number]));
  };
  return { answer, tab, input, lenses, click };
}

function commandMethod(command: string): 'acceptHunkCmd' | 'rejectHunkCmd' | 'undoHunkCmd' | 'acceptAllCmd' | 'rejectAllCmd' {
  const names: Record<string, 'acceptHunkCmd' | 'rejectHunkCmd' | 'undoHunkCmd' | 'acceptAllCmd' | 'rejectAllCmd'> = {
    [REVIEW_COMMANDS.acceptHunk]: 'acceptHunkCmd',
    [REVIEW_COMMANDS.rejectHunk]: 'rejectHunkCmd',
    [REVIEW_COMMANDS.undoHunk]: 'undoHunkCmd',
    [REVIEW_COMMANDS.acceptAll]: 'acceptAllCmd',
    [REVIEW_COMMANDS.rejectAll]: 'rejectAllCmd',
  };
  return names[command]!;
}

type Driven = ReturnType<typeof withCommands>;

/** The registered review commands, run as VS Code runs them (a CodeLens click, the editor title). */
function withCommands(editor: ReviewEditor) {
  editor.register();
  const registered = new Map(vscode.commands.registerCommand.mock.calls.map((c) => [c[0], c[1] as (...args: unknown[]) => unknown]));
  const run = (command: string) => (...args: unknown[]) => registered.get(command)!(...args);
  return Object.assign(editor, {
    acceptHunkCmd: run(REVIEW_COMMANDS.acceptHunk),
    rejectHunkCmd: run(REVIEW_COMMANDS.rejectHunk),
    undoHunkCmd: run(REVIEW_COMMANDS.undoHunk),
    acceptAllCmd: run(REVIEW_COMMANDS.acceptAll),
    rejectAllCmd: run(REVIEW_COMMANDS.rejectAll),
  });
}

describe('the review in the diff editor', () => {
  beforeEach(() => vscode.resetVscodeMock());

  it('opens original vs proposed, and answers once every hunk is decided with the CodeLenses', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, input, lenses, click } = await opened(editor);
    const [command, left, right, title, options] = vscode.commands.executeCommand.mock.calls.find((c) => c[0] === 'vscode.diff')!;
    expect(command).toBe('vscode.diff');
    expect(title).toBe('Review: app.py (3 changes)');
    expect(options).toEqual({ preview: false });
    expect((left as vscode.Uri).scheme).toBe(REVIEW_SCHEME);
    expect(editor.provideTextDocumentContent(left as never)).toBe(ORIGINAL);
    expect(editor.provideTextDocumentContent(right as never)).toBe(PROPOSED);
    expect((right as vscode.Uri).path.endsWith('/app.py')).toBe(true); // highlighted as Python
    expect(input.modified).toBe(right);
    expect(vscode.commands.executeCommand).toHaveBeenCalledWith('setContext', 'lspAgent.reviewing', true);
    // Accept / Reject over each hunk, on the proposed side only
    expect(lenses().map((l) => [l.range.start.line, l.command!.title])).toEqual([
      [1, '$(check) Accept hunk 1 (line 2)'],
      [1, '$(close) Reject'],
      [3, '$(check) Accept hunk 2 (line 4)'],
      [3, '$(close) Reject'],
      [4, '$(check) Accept hunk 3 (deletes lines 5-6)'],
      [4, '$(close) Reject'],
    ]);
    expect(editor.provideCodeLenses({ uri: left } as never)).toEqual([]);

    click('Accept', 1);
    click('Reject', 3);
    expect(lenses()[1]!.command!.title).toBe('$(close) Rejected hunk 2 (line 4)');
    click('Rejected hunk 2'); // changed my mind
    click('Accept', 3);
    let settled = false;
    void answer.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false); // one hunk is still open
    click('Reject', 4);
    expect(await answer).toEqual({ accepted: [0, 1], rejected: [2] });
    // the review tab closes itself, and the documents are forgotten
    expect(vscode.tabGroups.close).toHaveBeenCalled();
    expect(vscode.tabGroups.tabs).toEqual([]);
    expect(editor.provideTextDocumentContent(right as never)).toBe('');
    expect(editor.open).toBe(0);
    expect(vscode.commands.executeCommand).toHaveBeenLastCalledWith('setContext', 'lspAgent.reviewing', false);
  });

  it('closing the tab without deciding answers closed (everything rejected)', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, tab, click } = await opened(editor);
    click('Accept', 1); // a decision that never got sent
    vscode.tabGroups.closeByUser(tab);
    expect(await answer).toEqual({ accepted: [], rejected: [0, 1, 2], closed: true });
    expect(vscode.tabGroups.close).not.toHaveBeenCalled();
    expect(editor.open).toBe(0);
  });

  it('a tab moved to another group is still the open review', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, tab, click } = await opened(editor);
    vscode.tabGroups.all.push({ tabs: [{ ...tab }] });
    vscode.tabGroups.closeByUser(tab);
    expect(editor.open).toBe(1);
    click('Accept', 1);
    click('Accept', 3);
    click('Accept', 4);
    expect(await answer).toEqual({ accepted: [0, 1, 2], rejected: [] });
  });

  it('Accept All / Reject All in the editor title decide every hunk at once', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, input, click } = await opened(editor);
    click('Reject', 1);
    editor.acceptAllCmd(input.modified); // the editor title passes the active resource
    expect(await answer).toEqual({ accepted: [0, 1, 2], rejected: [] });

    const second = await opened(editor);
    editor.rejectAllCmd(); // from the palette: the active review
    expect(await second.answer).toEqual({ accepted: [], rejected: [0, 1, 2] });
  });

  it('"file" granularity offers only the whole edit', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, lenses, click } = await opened(editor, params('file'));
    expect(vscode.commands.executeCommand.mock.calls.find((c) => c[0] === 'vscode.diff')![3]).toBe('Review: app.py (accept or reject)');
    expect(lenses().map((l) => [l.range.start.line, l.command!.title])).toEqual([
      [0, '$(check) Accept the whole edit'],
      [0, '$(close) Reject it'],
    ]);
    editor.acceptHunkCmd(lenses()[0]!.command!.arguments![0], 1); // a single hunk means the whole file here
    expect(await answer).toEqual({ accepted: [0, 1, 2], rejected: [] });

    const again = await opened(editor, params('file'));
    again.click('Reject it');
    expect(await again.answer).toEqual({ accepted: [], rejected: [0, 1, 2] });
  });

  it('the "at the Cursor" commands decide the hunk under the cursor, on either side', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, input } = await opened(editor);
    vscode.window.activeTextEditor = { document: { uri: input.modified }, selection: { active: new vscode.Position(3, 2) } };
    editor.rejectHunkCmd(input.modified);
    vscode.window.activeTextEditor = { document: { uri: input.modified }, selection: { active: new vscode.Position(0, 0) } };
    expect(editor.acceptHunkCmd(input.modified)).toBe(false); // line 1 is no change
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith(expect.stringContaining('put the cursor in a change'));
    // on the original side: line 5 is in the deleted lines of hunk 3
    vscode.window.activeTextEditor = { document: { uri: input.original }, selection: { active: new vscode.Position(4, 0) } };
    editor.rejectHunkCmd(input.original);
    vscode.window.activeTextEditor = { document: { uri: input.modified }, selection: { active: new vscode.Position(1, 0) } };
    editor.acceptHunkCmd(input.modified);
    expect(await answer).toEqual({ accepted: [0], rejected: [1, 2] });
  });

  it('Accept All overrides the hunks decided already', async () => {
    const editor = withCommands(new ReviewEditor());
    const { answer, input } = await opened(editor);
    vscode.window.activeTextEditor = { document: { uri: input.modified }, selection: { active: new vscode.Position(3, 2) } };
    editor.rejectHunkCmd(input.modified);
    editor.acceptAllCmd(input.modified);
    expect(await answer).toEqual({ accepted: [0, 1, 2], rejected: [] });
  });

  it('the server cancelling the request closes the review', async () => {
    const editor = withCommands(new ReviewEditor());
    const source = new vscode.CancellationTokenSource();
    const { answer } = await opened(editor, params(), source.token);
    source.cancel();
    expect(await answer).toEqual({ accepted: [], rejected: [0, 1, 2], closed: true });
    expect(vscode.tabGroups.tabs).toEqual([]);
  });

  it('bad params are an error answer, and open nothing', async () => {
    const editor = withCommands(new ReviewEditor());
    await expect(editor.review({ ...params(), granularity: 'lines' })).rejects.toThrow(BadReview);
    expect(vscode.tabGroups.tabs).toEqual([]);
    expect(await editor.review({ ...params(), hunks: [] })).toEqual({ accepted: [], rejected: [] });
  });

  it('commands with no review open say so', () => {
    const editor = withCommands(new ReviewEditor());
    expect(editor.acceptAllCmd()).toBe(false);
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith('lsp-agent: no agent edit is waiting for review.');
  });
});

describe('the review mode', () => {
  beforeEach(() => vscode.resetVscodeMock());

  function setup() {
    const sent: Array<[string, unknown]> = [];
    let review = 'auto';
    const connection: Connection = {
      sendRequest: async <R>(method: string, p: unknown): Promise<R> => {
        sent.push([method, p]);
        if (method === 'agent/session/new') {
          return { sessionId: 's1', mode: 'ask', model: 'fake-model', review: 'auto' } as R;
        }
        review = (p as { review?: string }).review ?? review;
        return { mode: 'ask', model: 'fake-model', review, modes: [], models: [] } as R;
      },
      sendNotification: () => undefined,
    };
    const controller = new AgentController();
    controller.setConnection(connection);
    const commands = new AgentCommands({} as never, controller, { show: vi.fn() } as never, vscode.window.createOutputChannel() as never);
    return { controller, commands, sent };
  }

  it('Agent: Set Review Mode… switches the session through agent/session/config', async () => {
    const { controller, commands, sent } = setup();
    vscode.window.showQuickPick.mockImplementationOnce(async (items: Array<{ id: string; description?: string }>) => {
      expect(items.map((i) => [i.id, i.description])).toEqual([
        ['auto', 'current'],
        ['hunks', undefined],
        ['file', undefined],
      ]);
      return items[1];
    });
    await commands.setReviewMode();
    expect(sent.filter(([m]) => m === 'agent/session/config').map(([, p]) => p)).toEqual([
      { sessionId: 's1' },
      { sessionId: 's1', review: 'hunks' },
    ]);
    expect(controller.choices).toEqual({ mode: 'ask', model: 'fake-model', review: 'hunks' });
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith("lsp-agent: this session's edits are now reviewed: hunks.");
  });

  it('the status bar shows the review mode when edits are reviewed, and in the tooltip', () => {
    const state = new TranscriptModel('s1').state;
    const hunks = statusView(state, true, { mode: 'ask', model: 'm', review: 'hunks' });
    expect(hunks.text).toBe('$(hubot) Agent · ask · review hunks');
    expect(hunks.tooltip).toContain('Model: m · Mode: ask · Review: each hunk');
    const auto = statusView(state, true, { mode: 'ask', model: 'm', review: 'auto' });
    expect(auto.text).toBe('$(hubot) Agent · ask');
    expect(auto.tooltip).toContain('Review: off');
  });
});
