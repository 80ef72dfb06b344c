/** The VS Code side, against the mocked `vscode` module: status bar, commands, client wiring. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentCapabilitiesFeature, AgentClient, type CommandRouter } from '../../src/client';
import { AgentCommands, editorContext, sessionPickItems } from '../../src/commands';
import { AgentController, type Connection } from '../../src/controller';
import { DiffDocuments } from '../../src/diffs';
import type { PromptResult } from '../../src/protocol';
import { ReviewEditor } from '../../src/review';
import { FIX_FILE_PROMPT, FIX_PROMPT, askRequest, covering, fixRequest, runRequest } from '../../src/routing';
import { AgentStatusBar, statusView } from '../../src/statusBar';
import { TranscriptModel } from '../../src/transcript/model';
import * as vscode from '../vscode.mock';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const DONE: PromptResult = { stopReason: 'end_turn', usage: { totalTokens: 1200 }, costUsd: 0.004, turns: 1, toolCalls: 0, editedUris: [] };

function recordingConnection() {
  const sent: Array<[string, unknown]> = [];
  const connection: Connection = {
    sendRequest: async <R>(method: string, params: unknown): Promise<R> => {
      sent.push([method, params]);
      if (method === 'agent/session/new') {
        return { sessionId: 's1', mode: 'ask', model: 'fake-model' } as R;
      }
      if (method === 'agent/session/config') {
        const change = params as { mode?: string; model?: string };
        return {
          mode: change.mode ?? 'ask',
          model: change.model ?? 'fake-model',
          modes: [
            { id: 'read-only', name: 'Read only', description: 'Reads only.' },
            { id: 'ask', name: 'Ask', description: 'Asks.' },
          ],
          models: ['fake-model', 'big-model'],
        } as R;
      }
      if (method === 'agent/session/list') {
        return {
          sessions: [{ sessionId: 'old', title: 'Fix add', cwd: '/ws', createdAt: '', updatedAt: new Date().toISOString(), turns: 2 }],
        } as R;
      }
      if (method === 'agent/commands') {
        return {
          commands: [
            { name: 'compact', description: 'Summarize', source: 'builtin' },
            { name: 'review', description: 'Review a file', source: 'workspace', hint: 'FILE' },
          ],
          notes: [],
        } as R;
      }
      if (method === 'agent/session/load') {
        return { sessionId: 'old', updates: 0 } as R;
      }
      return DONE as R;
    },
    sendNotification: () => undefined,
  };
  return { connection, sent };
}

const APP = ['import os', 'def add(a, b):', '    return a - b', ''];

function fakeEditor(selection = new vscode.Selection(new vscode.Position(1, 0), new vscode.Position(2, 4))) {
  return {
    document: {
      uri: vscode.Uri.file('/ws/app.py'),
      version: 7,
      lineAt: (line: number) => ({ text: APP[line] ?? '' }),
      getText: (r: vscode.Range) => APP.slice(r.start.line, r.end.line + 1).join('\n'),
    },
    selection,
  };
}

function setup() {
  const controller = new AgentController();
  const { connection, sent } = recordingConnection();
  controller.setConnection(connection);
  const view = { show: vi.fn(async () => undefined) };
  const output = vscode.window.createOutputChannel();
  const context = { secrets: { store: vi.fn(), delete: vi.fn(), get: vi.fn() } };
  const commands = new AgentCommands(context as never, controller, view as never, output as never);
  return { controller, sent, view, commands, context };
}

beforeEach(() => vscode.resetVscodeMock());

describe('status bar', () => {
  it('shows idle, running (click cancels) and the session usage', () => {
    const model = new TranscriptModel('s');
    expect(statusView(undefined, true)).toEqual({
      text: '$(hubot) Agent',
      tooltip: 'lsp-agent is idle: click to show the transcript',
      command: 'lsp-agent.showTranscript',
    });
    model.setRunning(true);
    model.apply({ sessionId: 's', seq: 0, update: { sessionUpdate: 'usage_update', used: 2048, size: 8192, cost: { amount: 0.0021 } } });
    expect(statusView(model.state, true, { mode: 'accept-edits', model: 'qwen3' })).toEqual({
      text: '$(loading~spin) Agent · accept-edits · 25% context · $0.0021',
      tooltip:
        'lsp-agent is working: click to cancel\nModel: qwen3 · Mode: accept-edits\n' +
        'Context: 2.05k / 8.19k tokens (25%)\nCost: $0.0021',
      command: 'lsp-agent.cancel',
    });
    model.finishPrompt(DONE);
    expect(statusView(model.state, true).text).toBe('$(hubot) Agent · 25% context · $0.0040');
    expect(statusView(model.state, false).command).toBe('lsp-agent.showLog');
  });

  it('follows the controller and sets the lspAgent.running context', async () => {
    const { controller } = setup();
    const bar = new AgentStatusBar(controller);
    const item = vscode.statusBarItems[0]!;
    expect(item.text).toBe('$(hubot) Agent');
    await controller.setCurrent('s1');
    controller.current!.setRunning(true);
    controller.handleUpdate({ sessionId: 's1', seq: 0, update: { sessionUpdate: 'usage_update', used: 10 } });
    expect(item.text).toBe('$(loading~spin) Agent · 10 tokens');
    expect(item.command).toBe('lsp-agent.cancel');
    expect(vscode.commands.executeCommand).toHaveBeenCalledWith('setContext', 'lspAgent.running', true);
    bar.dispose();
  });
});

describe('commands', () => {
  it('registers every palette command of package.json', () => {
    const { commands } = setup();
    commands.register();
    new ReviewEditor().register();
    const registered = vscode.commands.registerCommand.mock.calls.map((c) => c[0]);
    const contributed = (pkg.contributes.commands as Array<{ command: string }>).map((c) => c.command);
    expect(registered.sort()).toEqual(contributed.sort());
    // and none collides with a command vscode-languageclient registers for the server
    expect(contributed.filter((c) => c.startsWith('lspAgent.'))).toEqual([]);
  });

  it('Agent: Ask… sends the prompt with the active file and selection', async () => {
    const { commands, sent, view } = setup();
    vscode.window.activeTextEditor = fakeEditor();
    const asked = commands.askCommand();
    const box = vscode.quickPicks.at(-1)!;
    expect(box.title).toBe('Ask the agent');
    box.type('  explain this  ');
    box.enter();
    await asked;
    expect(box.disposed).toBe(true);
    expect(sent.at(-1)).toEqual([
      'agent/session/prompt',
      {
        sessionId: 's1',
        prompt: 'explain this',
        context: {
          textDocument: { uri: 'file:///ws/app.py', version: 7 },
          range: { start: { line: 1, character: 0 }, end: { line: 2, character: 4 } },
        },
      },
    ]);
    expect(view.show).toHaveBeenCalled();
  });

  it('Agent: Ask… without a selection sends the file only, and nothing when dismissed', async () => {
    const { commands, sent } = setup();
    const editor = fakeEditor(new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(0, 0)));
    expect(editorContext(editor as never)).toEqual({ textDocument: { uri: 'file:///ws/app.py', version: 7 } });
    const asked = commands.askCommand();
    vscode.quickPicks.at(-1)!.hide();
    await asked;
    expect(sent).toEqual([]);
  });

  it('Agent: Edit Selection… sends the instruction with the selection as the inline edit', async () => {
    const { commands, sent } = setup();
    vscode.window.activeTextEditor = fakeEditor();
    vscode.window.showInputBox.mockResolvedValueOnce('  fix the sign  ');
    await commands.editSelection();
    expect(vscode.window.showInputBox.mock.calls[0]?.[0]).toMatchObject({ title: 'Agent: Edit file:///ws/app.py, lines 2-3' });
    expect(sent.at(-1)).toEqual([
      'agent/session/prompt',
      {
        sessionId: 's1',
        prompt: 'fix the sign',
        inlineEdit: { uri: 'file:///ws/app.py', range: { start: { line: 1, character: 0 }, end: { line: 2, character: 4 } } },
      },
    ]);
  });

  it('Agent: Edit Selection… without a selection, or dismissed, sends nothing', async () => {
    const { commands, sent } = setup();
    await commands.editSelection();
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith('lsp-agent: select the lines to edit first.');
    vscode.window.activeTextEditor = fakeEditor();
    vscode.window.showInputBox.mockResolvedValueOnce(undefined);
    await commands.editSelection();
    expect(sent).toEqual([]);
  });

  it('Agent: Ask… sends @selection and @problems as embedded resources', async () => {
    const { commands, sent } = setup();
    vscode.window.activeTextEditor = fakeEditor();
    const asked = commands.askCommand();
    const box = vscode.quickPicks.at(-1)! as vscode.FakeQuickPick<{ label: string }>;
    box.type('fix @sel');
    await vi.waitFor(() => expect(box.items[0]?.label).toBe('@selection'));
    box.enter();
    box.type('fix @selection and @pro');
    await vi.waitFor(() => expect(box.items[0]?.label).toBe('@problems'));
    box.enter();
    expect(box.value).toBe('fix @selection and @problems ');
    box.enter();
    await asked;
    const params = sent.find(([m]) => m === 'agent/session/prompt')?.[1] as { prompt: unknown; context: unknown };
    expect(params.context).toEqual({ textDocument: { uri: 'file:///ws/app.py', version: 7 } }); // the range went as @selection
    expect(params.prompt).toEqual([
      { type: 'text', text: 'fix @selection and @problems' },
      { type: 'resource', resource: { uri: 'lsp-agent:problems', mimeType: 'application/json', text: '[]' } },
      { type: 'resource', resource: { uri: 'file:///ws/app.py#L2-3', text: 'def add(a, b):\n    return a - b' } },
    ]);
  });

  it('Agent: Ask… completes a slash command and a file mention before it sends', async () => {
    const { commands, sent } = setup();
    vscode.workspace.findFiles.mockResolvedValueOnce(['src/app.py', 'docs/my notes.md']);
    const asked = commands.askCommand();
    const box = vscode.quickPicks.at(-1)! as vscode.FakeQuickPick<{ label: string }>;
    box.type('/re');
    await vi.waitFor(() => expect(box.items.map((i) => i.label)).toEqual(['/review FILE', '$(send) Send to the agent']));
    box.enter(); // the highlighted completion, not the prompt
    expect(box.value).toBe('/review ');
    box.type('/review @not');
    await vi.waitFor(() => expect(box.items[0]?.label).toBe('docs/my notes.md'));
    box.enter();
    expect(box.value).toBe('/review @"docs/my notes.md" ');
    box.type('/review @"docs/my notes.md" briefly');
    box.enter(); // no token being typed: Enter sends
    await asked;
    expect(sent.find(([m]) => m === 'agent/session/prompt')?.[1]).toMatchObject({
      prompt: '/review @"docs/my notes.md" briefly',
    });
    expect(sent.filter(([m]) => m === 'agent/commands')).toHaveLength(1); // asked once per box
  });

  it('switches the mode and the model mid-session, and the status bar shows them', async () => {
    const { commands, controller, sent } = setup();
    const bar = new AgentStatusBar(controller);
    const item = vscode.statusBarItems.at(-1)!;
    vscode.window.showQuickPick.mockImplementationOnce(async (items: Array<{ id: string }>) => items[0]);
    await commands.switchMode(); // no session yet: one is made, then switched
    expect(sent.map(([m]) => m)).toEqual(['agent/session/new', 'agent/session/config', 'agent/session/config']);
    expect(sent.at(-1)![1]).toEqual({ sessionId: 's1', mode: 'read-only' });
    expect(item.text).toBe('$(hubot) Agent · read-only');
    vscode.window.showQuickPick.mockImplementationOnce(async (items: Array<{ label: string }>) => items.find((i) => i.label === 'big-model'));
    await commands.switchModel();
    expect(sent.at(-1)![1]).toEqual({ sessionId: 's1', model: 'big-model' });
    expect(controller.choices).toEqual({ mode: 'ask', model: 'big-model' });
    expect(item.tooltip).toContain('Model: big-model');
    // "Other model…" asks for a name; dismissing either picker changes nothing
    vscode.window.showQuickPick.mockImplementationOnce(async (items: Array<{ label: string }>) => items.at(-1));
    vscode.window.showInputBox.mockResolvedValueOnce(' my/local-model ');
    await commands.switchModel();
    expect(sent.at(-1)![1]).toEqual({ sessionId: 's1', model: 'my/local-model' });
    const before = sent.length;
    vscode.window.showQuickPick.mockResolvedValueOnce(undefined);
    await commands.switchMode();
    expect(sent.length).toBe(before + 1); // the read, no switch
    bar.dispose();
  });

  it('Agent: Fix Problems in This File sends its errors and warnings', async () => {
    const { commands, sent } = setup();
    vscode.window.activeTextEditor = fakeEditor();
    const error = new vscode.Diagnostic(new vscode.Range(4, 2, 4, 8), 'undefined name', vscode.DiagnosticSeverity.Error);
    const hint = new vscode.Diagnostic(new vscode.Range(1, 0, 1, 1), 'style', vscode.DiagnosticSeverity.Hint);
    const warning = new vscode.Diagnostic(new vscode.Range(9, 0, 9, 3), 'unused', vscode.DiagnosticSeverity.Warning);
    vscode.languages.getDiagnostics.mockReturnValue([error, hint, warning]);
    await commands.fixFile();
    const [method, params] = sent.at(-1)! as [string, { prompt: string; context: { diagnostics: unknown[]; range: unknown } }];
    expect(method).toBe('agent/session/prompt');
    expect(params.prompt).toBe(FIX_FILE_PROMPT);
    expect(params.context.diagnostics).toHaveLength(2);
    expect(params.context.range).toEqual({ start: { line: 4, character: 2 }, end: { line: 9, character: 3 } });
  });

  it('Agent: Fix Problems in This File says so when there is nothing to fix', async () => {
    const { commands, sent } = setup();
    vscode.window.activeTextEditor = fakeEditor();
    await commands.fixFile();
    expect(sent).toEqual([]);
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith('lsp-agent: this file has no errors or warnings to fix.');
  });

  it('"Ask agent about selection" asks for the prompt, then runs it', async () => {
    const { commands, sent } = setup();
    vscode.window.showInputBox.mockResolvedValueOnce('rename it');
    const range = { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } };
    await commands.ask({ uri: 'file:///ws/app.py', range });
    await new Promise((r) => setTimeout(r, 0));
    expect(vscode.window.showInputBox).toHaveBeenCalledOnce();
    expect(sent.at(-1)).toEqual([
      'agent/session/prompt',
      { sessionId: 's1', prompt: 'rename it', context: { textDocument: { uri: 'file:///ws/app.py' }, range } },
    ]);
  });

  it('"Ask agent to fix" runs at once in the current session', async () => {
    const { commands, sent } = setup();
    const diagnostic = { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } }, message: 'bad', severity: 1 };
    await commands.fix({ uri: 'file:///ws/app.py', range: diagnostic.range, diagnostics: [diagnostic] });
    await new Promise((r) => setTimeout(r, 0));
    expect(sent.at(-1)![1]).toMatchObject({ prompt: FIX_PROMPT, context: { diagnostics: [diagnostic] } });
  });

  it('a busy session offers to cancel instead of queueing', async () => {
    const { commands, controller, sent } = setup();
    await controller.setCurrent('s1');
    controller.current!.setRunning(true);
    vscode.window.showWarningMessage.mockResolvedValueOnce('Cancel It');
    const cancel = vi.spyOn(controller, 'cancel');
    await commands.send('more');
    expect(cancel).toHaveBeenCalled();
    expect(sent).toEqual([]);
  });

  it('Agent: Resume Session… picks from agent/session/list and loads it', async () => {
    const { commands, sent, controller } = setup();
    vscode.window.showQuickPick.mockImplementationOnce(async (items: Array<{ sessionId: string }>) => items[0]);
    await commands.resume();
    expect(sent.map(([m]) => m)).toEqual(['agent/session/list', 'agent/session/load']);
    expect(controller.current!.state.sessionId).toBe('old');
    const [item] = sessionPickItems([{ sessionId: 'x', title: '', cwd: '/ws', createdAt: '', updatedAt: 'not a date', turns: 1 }]);
    expect(item).toMatchObject({ label: '(untitled session)', description: '1 turn · not a date', detail: '/ws' });
  });

  it('Agent: Set API Key stores the key in SecretStorage, never in settings, and restarts', async () => {
    const { commands, context } = setup();
    const client = { restart: vi.fn(async () => true) };
    commands.attach(client as never);
    vscode.window.showInputBox.mockResolvedValueOnce(' sk-test ');
    await commands.setApiKey();
    expect(context.secrets.store).toHaveBeenCalledWith('lspAgent.apiKey', 'sk-test');
    expect(client.restart).toHaveBeenCalled();
    expect(vscode.window.showInputBox.mock.calls[0]![0]).toMatchObject({ password: true });
    const config = vscode.workspace.getConfiguration('lspAgent');
    expect(config.update).not.toHaveBeenCalled();
    vscode.window.showInputBox.mockResolvedValueOnce('');
    await commands.setApiKey();
    expect(context.secrets.delete).toHaveBeenCalledWith('lspAgent.apiKey');
  });
});

describe('routing the server commands', () => {
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } };

  it('checks the arguments', () => {
    expect(() => fixRequest({})).toThrow('lspAgent.fix needs');
    expect(() => askRequest({ uri: 'file:///a' })).toThrow('lspAgent.ask needs { uri, range }');
    expect(() => askRequest({ uri: 'file:///a', range }, '  ')).toThrow('needs a prompt');
    expect(() => runRequest({ prompt: '' })).toThrow('lspAgent.run needs { prompt }');
  });

  it('turns lspAgent.run into a prompt with optional context', () => {
    expect(runRequest({ prompt: 'go' })).toEqual({ prompt: 'go' });
    expect(runRequest({ prompt: 'go', uri: 'file:///a', range })).toEqual({
      prompt: 'go',
      context: { textDocument: { uri: 'file:///a' }, range },
    });
    expect(covering([])).toBeUndefined();
  });
});

describe('the language client', () => {
  it('advertises capabilities.experimental.lspAgent and reads the server version', () => {
    const feature = new AgentCapabilitiesFeature();
    const capabilities: { experimental?: unknown } = { experimental: { other: 1 } };
    feature.fillClientCapabilities(capabilities);
    expect(capabilities.experimental).toEqual({
      other: 1,
      lspAgent: { requestPermission: true, getDiagnostics: true, saveDocuments: true, languageFeatures: true, review: true },
    });
    feature.initialize({ experimental: { lspAgent: { version: 1 } } } as never);
    expect(feature.serverVersion).toBe(1);
    expect(feature.getState()).toEqual({ kind: 'static' });
  });

  function makeClient() {
    const controller = new AgentController();
    const router: CommandRouter = { ask: vi.fn(async () => 'asked'), fix: vi.fn(async () => 'fixed'), run: vi.fn(async () => 'ran') };
    const context = {
      extension: { packageJSON: pkg },
      secrets: { get: vi.fn(async () => 'sk-secret') },
      extensionUri: vscode.Uri.file('/ext'),
    };
    const output = vscode.window.createOutputChannel();
    const agent = new AgentClient(context as never, controller, output as never, new DiffDocuments(), router);
    const launch = { command: '/bin/true', args: ['serve'] };
    const client = (agent as unknown as { createClient: (l: unknown, e: unknown, c?: string) => unknown }).createClient(launch, {}, undefined) as {
      clientOptions: {
        middleware: {
          executeCommand: (c: string, a: unknown[], n: (c: string, a: unknown[]) => unknown) => unknown;
          workspace: { configuration: (p: unknown, t: unknown, n: (...x: unknown[]) => unknown) => Promise<unknown> };
        };
        initializationOptions: () => unknown;
        synchronize?: { configurationSection?: string };
        documentSelector: unknown;
      };
    };
    return { client, router, agent };
  }

  it('routes the code-action commands to the extension and others to the server', async () => {
    const { client, router } = makeClient();
    const next = vi.fn(() => 'server');
    const execute = client.clientOptions.middleware.executeCommand;
    expect(await execute('lspAgent.fix', [{ uri: 'u' }], next)).toBe('fixed');
    expect(await execute('lspAgent.ask', [{ uri: 'u' }], next)).toBe('asked');
    expect(await execute('lspAgent.run', [{ prompt: 'p' }], next)).toBe('ran');
    expect(router.fix).toHaveBeenCalledWith({ uri: 'u' });
    expect(execute('lspAgent.undo', [{ sessionId: 's' }], next)).toBe('server');
    expect(next).toHaveBeenCalledWith('lspAgent.undo', [{ sessionId: 's' }]);
  });

  it('sends the user settings as initializationOptions and answers workspace/configuration with them', async () => {
    vscode.configuration.set('lspAgent.model.baseUrl', { defaultValue: 'http://127.0.0.1:8080/v1', globalValue: 'http://gpu/v1' });
    vscode.configuration.set('lspAgent.limits.maxTurns', { defaultValue: 50 });
    vscode.configuration.set('lspAgent.server.command', { defaultValue: 'lsp-agent', globalValue: '/x/lsp-agent' });
    const { client } = makeClient();
    expect(client.clientOptions.initializationOptions()).toEqual({ lspAgent: { model: { baseUrl: 'http://gpu/v1' } } });
    // no synchronize.configurationSection: it would push VS Code's whole section at startup
    expect(client.clientOptions.synchronize?.configurationSection).toBeUndefined();
    // VS Code's own answer has the defaults and lspAgent.server: the server gets neither.
    const vscodeAnswer = { model: { baseUrl: 'http://gpu/v1' }, limits: { maxTurns: 50 }, server: { command: '/x/lsp-agent' } };
    const next = vi.fn(async () => [vscodeAnswer, { tabSize: 4 }]);
    const params = { items: [{ section: 'lspAgent' }, { section: 'editor' }] };
    const answer = await client.clientOptions.middleware.workspace.configuration(params, undefined, next);
    expect(answer).toEqual([{ model: { baseUrl: 'http://gpu/v1' } }, { tabSize: 4 }]);
    const group = await client.clientOptions.middleware.workspace.configuration({ items: [{ section: 'lspAgent.model' }] }, undefined, async () => [{}]);
    expect(group).toEqual([{ baseUrl: 'http://gpu/v1' }]);
  });

  it('pushes a change of the server settings, filtered, and ignores the rest', () => {
    vscode.configuration.set('lspAgent.model.name', { defaultValue: 'default', globalValue: 'qwen' });
    const { agent } = makeClient();
    const send = vi.fn(async () => undefined);
    (agent as unknown as { client: unknown }).client = { sendNotification: send };
    const change = (...sections: string[]) => ({ affectsConfiguration: (s: string) => sections.some((x) => x === s || x.startsWith(`${s}.`)) });
    agent.settingsChanged(change('lspAgent.model.name'));
    expect(send).toHaveBeenCalledWith('workspace/didChangeConfiguration', { settings: { lspAgent: { model: { name: 'qwen' } } } });
    send.mockClear();
    agent.settingsChanged(change('lspAgent.server.command')); // a restart handles this one
    agent.settingsChanged(change('editor.fontSize'));
    expect(send).not.toHaveBeenCalled();
  });

  it('syncs every file document', () => {
    const { client } = makeClient();
    expect(client.clientOptions.documentSelector).toEqual([{ scheme: 'file' }, { scheme: 'untitled' }]);
  });

  it('puts the stored API key in the server environment under model.apiKeyEnv, and explains a missing server', async () => {
    vscode.configuration.set('lspAgent.model.apiKeyEnv', { defaultValue: 'OPENAI_API_KEY', globalValue: 'MY_KEY' });
    vscode.configuration.set('lspAgent.server.command', { defaultValue: 'lsp-agent', globalValue: '/no/such/lsp-agent' });
    const controller = new AgentController();
    const secrets = { get: vi.fn(async () => 'sk-secret') };
    const output = vscode.window.createOutputChannel();
    const agent = new AgentClient({ extension: { packageJSON: pkg }, secrets } as never, controller, output as never, new DiffDocuments(), {} as never);
    expect((await agent.serverEnvironment()).MY_KEY).toBe('sk-secret');
    expect(secrets.get).toHaveBeenCalledWith('lspAgent.apiKey');
    vscode.window.showErrorMessage.mockResolvedValueOnce('Open Settings');
    expect(await agent.start()).toBe(false);
    const message = vscode.window.showErrorMessage.mock.calls[0]![0] as string;
    expect(message).toContain('"/no/such/lsp-agent" was not found');
    expect(message).toContain('pip install lsp-agent');
    expect(vscode.window.showErrorMessage.mock.calls[0]!.slice(1)).toEqual(['Open Settings', 'Show Log']);
    await new Promise((r) => setTimeout(r, 0));
    expect(vscode.commands.executeCommand).toHaveBeenCalledWith('workbench.action.openSettings', 'lspAgent.server');
  });
});
