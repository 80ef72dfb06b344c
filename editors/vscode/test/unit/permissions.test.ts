import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LABELS, SHOW_DIFF, askPermission, optionLabels, permissionMessage } from '../../src/permissions';
import type { DiffItem, PermissionOption, RequestPermissionParams } from '../../src/protocol';
import * as vscode from '../vscode.mock';

/** The options the server sends (lsp_agent/server/gate.py). */
const OPTIONS: PermissionOption[] = [
  { optionId: 'allow_once', name: 'Allow', kind: 'allow_once' },
  { optionId: 'allow_always', name: 'Always allow', kind: 'allow_always' },
  { optionId: 'reject_once', name: 'Reject', kind: 'reject_once' },
];

const DIFF: DiffItem = { type: 'diff', path: '/ws/app.py', oldText: 'return a - b\n', newText: 'return a + b\n' };

function editRequest(): RequestPermissionParams {
  return {
    sessionId: 's',
    toolCall: { toolCallId: 'c1', title: 'Edit app.py', kind: 'edit', rawInput: { path: 'app.py' }, content: [DIFF] },
    options: OPTIONS,
  };
}

function shellRequest(): RequestPermissionParams {
  return {
    sessionId: 's',
    toolCall: { toolCallId: 'c2', title: 'Run a command', kind: 'execute', rawInput: { command: 'rm -rf build' } },
    options: OPTIONS,
  };
}

/** A UI that answers with these button labels in turn (undefined: dismissed). */
function ui(...answers: Array<string | undefined>) {
  return {
    ask: vi.fn(async (_message: string, _choices: string[]) => answers.shift()),
    showDiff: vi.fn(async (_diff: DiffItem) => undefined),
  };
}

describe('askPermission', () => {
  it.each([
    ['Allow once', 'allow_once'],
    ['Always', 'allow_always'],
    ['Reject', 'reject_once'],
  ])('%s selects %s', async (label, optionId) => {
    const answer = await askPermission(shellRequest(), ui(label));
    expect(answer).toEqual({ outcome: { outcome: 'selected', optionId } });
  });

  it('is cancelled when the message is dismissed', async () => {
    expect(await askPermission(shellRequest(), ui(undefined))).toEqual({ outcome: { outcome: 'cancelled' } });
  });

  it('offers Show diff for an edit, opens the diff, then asks again', async () => {
    const fake = ui(SHOW_DIFF, 'Allow once');
    const answer = await askPermission(editRequest(), fake);
    expect(fake.ask).toHaveBeenCalledTimes(2);
    expect(fake.ask.mock.calls[0]![1]).toEqual(['Allow once', 'Always', 'Reject', SHOW_DIFF]);
    expect(fake.showDiff).toHaveBeenCalledWith(DIFF);
    expect(answer).toEqual({ outcome: { outcome: 'selected', optionId: 'allow_once' } });
  });

  it('can reject after looking at the diff', async () => {
    const fake = ui(SHOW_DIFF, SHOW_DIFF, 'Reject');
    expect(await askPermission(editRequest(), fake)).toEqual({ outcome: { outcome: 'selected', optionId: 'reject_once' } });
    expect(fake.showDiff).toHaveBeenCalledTimes(2);
  });

  it('offers no diff when there is none', async () => {
    const fake = ui('Reject');
    await askPermission(shellRequest(), fake);
    expect(fake.ask.mock.calls[0]![1]).toEqual(['Allow once', 'Always', 'Reject']);
    expect(fake.ask.mock.calls[0]![0]).toBe('lsp-agent wants to: Run a command — `rm -rf build`');
  });

  it("shows the server's description of a command whole, and offers Show command", async () => {
    const params = shellRequest();
    const text = 'lsp-agent wants to run:\nls\nrm -r x\nNeeds approval: ask mode.';
    params.toolCall.content = [{ type: 'content', content: { type: 'text', text } }];
    params.options = [OPTIONS[0]!, { optionId: 'allow_always', name: 'Always allow bash(ls)', kind: 'allow_always' }, OPTIONS[2]!];
    const fake = { ...ui('Show command', 'Reject'), showText: vi.fn(async (_t: string) => undefined) };
    await askPermission(params, fake);
    expect(fake.ask.mock.calls[0]![0]).toBe(text); // every line: `rm -r x` is not hidden
    expect(fake.ask.mock.calls[0]![1]).toEqual(['Allow once', 'Always allow bash(ls)', 'Reject', 'Show command']);
    expect(fake.showText).toHaveBeenCalledWith(text);
    expect(fake.ask).toHaveBeenCalledTimes(2);
  });

  it('answers cancelled as soon as the server cancels the request', async () => {
    const source = new vscode.CancellationTokenSource();
    const never = { ask: vi.fn(() => new Promise<string | undefined>(() => undefined)), showDiff: vi.fn() };
    const pending = askPermission(shellRequest(), never, source.token);
    source.cancel();
    expect(await pending).toEqual({ outcome: { outcome: 'cancelled' } });
  });

  it('does not ask at all when already cancelled', async () => {
    const source = new vscode.CancellationTokenSource();
    source.cancel();
    const fake = ui('Allow once');
    expect(await askPermission(shellRequest(), fake, source.token)).toEqual({ outcome: { outcome: 'cancelled' } });
    expect(fake.ask).not.toHaveBeenCalled();
  });
});

describe('labels', () => {
  it('names buttons by kind, falling back to the server names', () => {
    const labels = optionLabels([
      ...OPTIONS,
      { optionId: 'never', name: 'Never', kind: 'reject_always' },
      { optionId: 'again', name: 'Allow this time', kind: 'allow_once' }, // a second allow_once
    ]);
    expect([...labels.keys()]).toEqual(['Allow once', 'Always', 'Reject', 'Reject always', 'Allow this time']);
    expect(labels.get('Allow this time')!.optionId).toBe('again');
    expect(LABELS.allow_always).toBe('Always');
  });

  it('does not repeat the command already in the title', () => {
    const params = shellRequest();
    params.toolCall.title = 'Run `rm -rf build`';
    expect(permissionMessage(params)).toBe('lsp-agent wants to: Run `rm -rf build`');
  });
});

describe('the VS Code permission UI', () => {
  beforeEach(() => vscode.resetVscodeMock());

  it('asks with a non-modal warning and opens diffs in the diff editor', async () => {
    const { vscodePermissionUI } = await import('../../src/client');
    const { DiffDocuments } = await import('../../src/diffs');
    const diffs = new DiffDocuments();
    const open = vi.spyOn(diffs, 'open').mockResolvedValue();
    vscode.window.showWarningMessage.mockResolvedValueOnce(SHOW_DIFF).mockResolvedValueOnce('Always');
    const answer = await askPermission(editRequest(), vscodePermissionUI(diffs));
    expect(answer).toEqual({ outcome: { outcome: 'selected', optionId: 'allow_always' } });
    expect(vscode.window.showWarningMessage).toHaveBeenCalledWith(
      'lsp-agent wants to: Edit app.py',
      { modal: false },
      'Allow once',
      'Always',
      'Reject',
      SHOW_DIFF,
    );
    expect(open).toHaveBeenCalledWith(DIFF);
  });

  it('opens a diff of two virtual documents with vscode.diff', async () => {
    const { DiffDocuments, DIFF_SCHEME } = await import('../../src/diffs');
    const diffs = new DiffDocuments();
    await diffs.open(DIFF);
    const [command, left, right, title] = vscode.commands.executeCommand.mock.calls[0]!;
    expect(command).toBe('vscode.diff');
    expect((left as vscode.Uri).scheme).toBe(DIFF_SCHEME);
    expect(diffs.provideTextDocumentContent(left as never)).toBe(DIFF.oldText);
    expect(diffs.provideTextDocumentContent(right as never)).toBe(DIFF.newText);
    expect((right as vscode.Uri).path.endsWith('/app.py')).toBe(true);
    expect(title).toBe('app.py (edit by the agent)');
  });
});
