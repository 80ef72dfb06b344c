/**
 * The extension's client side against the real `lsp-agent serve` over stdio, with the fake
 * model server: ask (streamed updates, gapless seq), an edit approved through the
 * permission logic and applied to an open document, save-before-shell, diagnostics, cancel,
 * list, load (replay) and undo.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentController, LAST_SESSION_KEY } from '../../src/controller';
import { SESSION_PROMPT, SESSION_UPDATE, type SessionUpdateParams } from '../../src/protocol';
import { askRequest, fixRequest } from '../../src/routing';
import { TranscriptModel } from '../../src/transcript/model';
import { renderTranscript } from '../../src/transcript/render';
import { REVIEW_COMMANDS } from '../../src/review';
import * as vscode from '../vscode.mock';
import { type Agent, type ModelServer, SERVER_COMMAND, type ScriptEntry, startAgent, startModelServer, tempDir } from './harness';

const APP = 'def add(a, b):\n    return a - b\n';

let dir: ReturnType<typeof tempDir>;
let root: string;
let state: string;
let model: ModelServer | undefined;
let agent: Agent;

const USER_SETTINGS = { 'model.name': 'fake-model', 'model.contextWindow': 32000, 'permissions.mode': 'ask' };

/**
 * One server for the file (it starts in seconds); each test gets a fresh fake model with its
 * own script, handed over as a settings change, the way VS Code delivers one.
 */
async function start(script: ScriptEntry[]): Promise<Agent> {
  model = await startModelServer(dir.path, script);
  await agent.setSettings({ ...USER_SETTINGS, 'model.baseUrl': model.baseUrl });
  return agent;
}

function seqsOf(updates: SessionUpdateParams[], sessionId: string): number[] {
  return updates.filter((u) => u.sessionId === sessionId).map((u) => u.seq);
}

function gapless(seqs: number[]): boolean {
  return seqs.length > 0 && seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
}

/** Two functions, both wrong: an agent edit that fixes both is two hunks. */
const TWO = 'def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n';
const TWO_FIXED = 'def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n';
const writeTwo = { builder: 'tool_call_reply', calls: [['write_file', { path: 'two.py', content: TWO_FIXED }]] };

/** The open review as the user sees it: its diff tab, and a click on one of its CodeLenses. */
function reviewView(a: Agent) {
  const tab = vscode.tabGroups.tabs.at(-1)!;
  const right = (tab.input as vscode.TabInputTextDiff).modified;
  const lenses = () => a.reviews.provideCodeLenses({ uri: right } as never);
  const click = (title: string) => {
    const lens = lenses().find((l) => l.command!.title.includes(title));
    if (!lens) {
      throw new Error(`no lens "${title}": ${lenses().map((l) => l.command!.title).join(', ')}`);
    }
    const [key, id] = lens.command!.arguments as [string, number];
    const decision = lens.command!.command === REVIEW_COMMANDS.acceptHunk ? 'accepted' : 'rejected';
    expect([REVIEW_COMMANDS.acceptHunk, REVIEW_COMMANDS.rejectHunk]).toContain(lens.command!.command);
    a.reviews.decideHunk(key, id, decision);
  };
  return { tab, right, lenses, click };
}

/** The last tool result the model got. */
function lastToolResult(m: ModelServer): string {
  const messages = m.requests().at(-1)!.body.messages ?? [];
  const tool = messages.filter((x) => x.role === 'tool').at(-1);
  return typeof tool?.content === 'string' ? tool.content : JSON.stringify(tool?.content);
}

const editApp = { builder: 'tool_call_reply', calls: [['edit_file', { path: 'app.py', old_string: 'a - b', new_string: 'a + b' }]] };

describe.skipIf(!SERVER_COMMAND)('the real server over stdio', () => {
  beforeAll(async () => {
    dir = tempDir('lsp-agent-vscode-');
    root = join(dir.path, 'ws');
    state = join(dir.path, 'state');
    mkdirSync(root);
    writeFileSync(join(root, 'app.py'), APP);
    agent = await startAgent(root, state, { settings: { ...USER_SETTINGS, 'model.baseUrl': 'http://127.0.0.1:9/v1' } });
  });

  beforeEach(async () => {
    writeFileSync(join(root, 'app.py'), APP);
    await agent.reset();
  });

  afterEach(() => {
    model?.stop();
    model = undefined;
  });

  afterAll(async () => {
    try {
      await agent?.stop();
    } finally {
      dir.remove();
    }
  });

  it('initializes with the agent capability and the user settings', async () => {
    const a = await start([]);
    expect(a.serverCapabilities.experimental).toEqual({ lspAgent: { version: 1 } });
    const commands = (a.serverCapabilities.executeCommandProvider as { commands: string[] }).commands;
    expect(commands).toEqual(expect.arrayContaining(['lspAgent.fix', 'lspAgent.ask', 'lspAgent.run', 'lspAgent.cancel', 'lspAgent.undo']));
    expect(a.serverCapabilities.codeActionProvider).toBeTruthy();
    // pulled after initialized, and again after each change; never an "invalid settings" error
    // (start() returns at the first pull it sees, which may be the initialized one)
    await a.until(() => a.configurationRequests.length >= 2, 'a second settings pull');
    expect(a.configurationRequests[0]).toEqual({ items: [{ section: 'lspAgent' }] });
    expect(a.messages.filter((m) => m.type === 1)).toEqual([]);
  });

  it('shows a compaction when the conversation outgrows a small window, and the meter drops', async () => {
    const long = 'the answer is long. '.repeat(700); // ~1.9k tokens: two outgrow a 4k window
    model = await startModelServer(dir.path, [
      { builder: 'text_reply', text: long, chunk_size: 400 },
      { builder: 'text_reply', text: '- the user asked for an explanation' }, // the summary
      { builder: 'text_reply', text: 'Nothing more.' },
    ]);
    await agent.setSettings({ ...USER_SETTINGS, 'model.baseUrl': model.baseUrl, 'model.contextWindow': 4000 });
    await agent.controller.prompt('explain everything');
    const session = agent.controller.current!;
    await agent.controller.prompt('and now?');
    const compaction = agent.updates.map((u) => u.update).find((u) => u.sessionUpdate === 'compaction');
    expect(compaction).toMatchObject({ sessionUpdate: 'compaction', method: 'summarize', reason: 'threshold' });
    const entry = session.state.entries.find((e) => e.type === 'compaction');
    expect(entry).toMatchObject({ type: 'compaction', nested: false });
    if (entry?.type !== 'compaction') {
      throw new Error('no compaction entry');
    }
    expect(entry.tokensBefore).toBeGreaterThan(entry.tokensAfter);
    expect(session.state.usage.contextUsed).toBeLessThan(entry.tokensBefore); // the meter followed
    expect(renderTranscript(session.state)).toContain('Context compacted: older turns summarized');
  });

  it('streams the answer of a prompt with gapless seq', async () => {
    const text = 'Hello from the fake model! The add function subtracts; that is a bug.';
    const a = await start([{ builder: 'text_reply', text, chunk_size: 3 }]);
    const result = await a.controller.prompt('say hello');
    expect(result.stopReason).toBe('end_turn');
    expect(result.usage.totalTokens).toBeGreaterThan(0);
    const session = a.controller.current!;
    expect(session.agentText()).toBe(text);
    const mine = a.updates.filter((u) => u.sessionId === session.state.sessionId);
    expect(mine[0]!.update.sessionUpdate).toBe('user_message_chunk');
    expect(gapless(seqsOf(a.updates, session.state.sessionId))).toBe(true);
    expect(session.state.gaps).toBe(0);
    const chunks = mine.filter((u) => u.update.sessionUpdate === 'agent_message_chunk');
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.length).toBeLessThan(Math.ceil(text.length / 3)); // coalesced into frames
    expect(session.state.entries.at(-1)).toMatchObject({ type: 'note', level: 'info' });
    expect(renderTranscript(session.state)).toContain('Hello from the fake model!');
    // $/progress: begin ... end, on a token the server created
    const kinds = a.progress.map((p) => p.value.kind);
    expect(kinds[0]).toBe('begin');
    expect(kinds.at(-1)).toBe('end');
  });

  it('asks permission for an edit (Show diff, then Allow once) and applies it to the open document', async () => {
    const a = await start([editApp, { builder: 'text_reply', text: 'Fixed: add now adds.' }]);
    const uri = a.open('app.py');
    a.user.answers = ['Show diff', 'Allow once'];
    const result = await a.controller.prompt('fix add', { textDocument: { uri, version: 1 } });
    expect(result.stopReason).toBe('end_turn');
    expect(result.editedUris).toEqual([uri]);
    // the permission request, as the extension saw it
    expect(a.permissionRequests).toHaveLength(1);
    const request = a.permissionRequests[0]!;
    expect(request.toolCall.kind).toBe('edit');
    expect(request.options.map((o) => o.kind)).toEqual(['allow_once', 'allow_always', 'reject_once']);
    expect(a.user.asked).toHaveLength(2);
    expect(a.user.asked[0]!.choices).toContain('Show diff');
    expect(a.user.diffsShown).toEqual([{ type: 'diff', path: join(root, 'app.py'), oldText: APP, newText: APP.replace('a - b', 'a + b') }]);
    // the edit went to the open buffer through workspace/applyEdit, not to the disk
    expect(a.applyEdits).toHaveLength(1);
    expect(a.docs.get(uri)).toMatchObject({ text: APP.replace('a - b', 'a + b'), version: 2, dirty: true });
    expect(readFileSync(join(root, 'app.py'), 'utf8')).toBe(APP);
    // the edited file's diagnostics were asked for (feedback to the model), as a language feature
    expect(a.languageRequests.some((r) => r.method === 'textDocument/diagnostic')).toBe(true);
    // the transcript has the tool call, completed, with its diff
    const tool = a.controller.current!.state.entries.find((e) => e.type === 'tool');
    expect(tool).toMatchObject({ kind: 'edit', status: 'completed' });
    expect(tool && tool.type === 'tool' && tool.diffs[0]?.newText).toContain('a + b');
    expect(a.controller.current!.agentText()).toBe('Fixed: add now adds.');
  });

  it('a rejected edit leaves the document alone', async () => {
    const a = await start([editApp, { builder: 'text_reply', text: 'OK, I will not.' }]);
    const uri = a.open('app.py');
    a.user.answers = ['Reject'];
    const result = await a.controller.prompt('fix add');
    expect(result.stopReason).toBe('end_turn');
    expect(a.applyEdits).toHaveLength(0);
    expect(a.docs.get(uri)!.text).toBe(APP);
    const tool = a.controller.current!.state.entries.find((e) => e.type === 'tool');
    expect(tool).toMatchObject({ status: 'failed' });
  });

  it('review per hunk: accept one hunk and reject the other; only the accepted one lands, and the model is told', async () => {
    writeFileSync(join(root, 'two.py'), TWO);
    const a = await start([writeTwo, { builder: 'text_reply', text: 'Only add is fixed, then.' }]);
    const uri = a.open('two.py');
    const config = await a.controller.config({ review: 'hunks' });
    expect(config.review).toBe('hunks');
    expect(a.controller.choices?.review).toBe('hunks');
    const pending = a.controller.prompt('fix both functions');
    await a.until(() => a.reviewRequests.length === 1, 'the review request');
    const request = a.reviewRequests[0]!;
    expect(request).toMatchObject({ uri, path: 'two.py', version: 1, granularity: 'hunks', original: TWO, proposed: TWO_FIXED });
    expect(request.hunks.map((h) => [h.id, h.originalStart, h.originalLines, h.proposedText])).toEqual([
      [0, 1, 1, '    return a + b\n'],
      [1, 5, 1, '    return a * b\n'],
    ]);
    // the review is the question: no permission prompt before it (ask mode)
    expect(a.permissionRequests).toEqual([]);
    const view = reviewView(a);
    expect(view.lenses().map((l) => l.command!.title)).toEqual([
      '$(check) Accept hunk 1 (line 2)',
      '$(close) Reject',
      '$(check) Accept hunk 2 (line 6)',
      '$(close) Reject',
    ]);
    expect(a.docs.get(uri)!.text).toBe(TWO); // nothing written while the user decides
    view.click('Accept hunk 1');
    view.click('Reject'); // hunk 2's (hunk 1's lens is now "Accepted")
    const result = await pending;
    expect(result.stopReason).toBe('end_turn');
    expect(vscode.tabGroups.tabs).toEqual([]); // the review closed itself
    // only hunk 1 landed, in the open buffer
    const landed = TWO.replace('a - b', 'a + b');
    expect(a.docs.get(uri)).toMatchObject({ text: landed, version: 2, dirty: true });
    expect(readFileSync(join(root, 'two.py'), 'utf8')).toBe(TWO);
    // the model was told the truth: which hunk landed (with its text), which did not
    const told = lastToolResult(model!);
    expect(told).toContain('accepted 1 of 2 hunks');
    expect(told).toMatch(/Hunk 1 \(.*\): accepted/);
    expect(told).toContain('return a + b');
    expect(told).toMatch(/Hunk 2 \(.*\): rejected/);
    expect(told).not.toContain('a * b');
  });

  it('closing the review tab rejects the edit: the file on disk is unchanged, and the model is told', async () => {
    writeFileSync(join(root, 'two.py'), TWO);
    const a = await start([writeTwo, { builder: 'text_reply', text: 'You closed it; I will ask first.' }]);
    await a.controller.config({ review: 'hunks' });
    const pending = a.controller.prompt('fix both functions');
    await a.until(() => a.reviewRequests.length === 1, 'the review request');
    expect(a.reviewRequests[0]!.version).toBeNull(); // not open in the editor
    const view = reviewView(a);
    view.click('Accept hunk 1'); // decided, but never sent: the tab is closed first
    vscode.tabGroups.closeByUser(view.tab);
    expect((await pending).stopReason).toBe('end_turn');
    expect(readFileSync(join(root, 'two.py'), 'utf8')).toBe(TWO);
    expect(a.applyEdits).toHaveLength(0);
    expect(lastToolResult(model!)).toContain('closed the review');
    const tool = a.controller.current!.state.entries.find((e) => e.type === 'tool');
    expect(tool).toMatchObject({ status: 'failed' });
  });

  it('a buffer the user changes during the review is not clobbered: the edit is refused and the model told', async () => {
    writeFileSync(join(root, 'two.py'), TWO);
    const a = await start([writeTwo, { builder: 'text_reply', text: 'You changed it; I will read it again.' }]);
    const uri = a.open('two.py');
    await a.controller.config({ review: 'hunks' });
    const pending = a.controller.prompt('fix both functions');
    await a.until(() => a.reviewRequests.length === 1, 'the review request');
    const mine = `${TWO}# my note\n`;
    a.change(uri, mine); // typed while the review was open, not saved
    a.reviews.decideAll(undefined, 'accepted'); // Accept All
    expect((await pending).stopReason).toBe('end_turn');
    expect(a.docs.get(uri)!.text).toBe(mine);
    expect(readFileSync(join(root, 'two.py'), 'utf8')).toBe(TWO);
    expect(lastToolResult(model!)).toMatch(/accepted 2 of 2 hunks of the edit to two\.py, but it was not written/);
    const tool = a.controller.current!.state.entries.find((e) => e.type === 'tool');
    expect(tool).toMatchObject({ status: 'failed' });
  });

  it('saves the edited buffer before a shell command, which then sees it', async () => {
    const a = await start([
      editApp,
      { builder: 'tool_call_reply', calls: [['bash', { command: 'cat app.py' }]] },
      { builder: 'text_reply', text: 'Checked.' },
    ]);
    const uri = a.open('app.py');
    a.user.answers = ['Allow once', 'Allow once'];
    const result = await a.controller.prompt('fix add and show the file');
    expect(result.stopReason).toBe('end_turn');
    expect(a.saveRequests).toEqual([{ uris: [uri] }]);
    expect(a.docs.get(uri)!.dirty).toBe(false);
    expect(readFileSync(join(root, 'app.py'), 'utf8')).toContain('a + b');
    const shell = a.controller.current!.state.entries.find((e) => e.type === 'tool' && e.kind === 'execute');
    expect(shell).toMatchObject({ status: 'completed' });
    expect(shell && shell.type === 'tool' && shell.output).toContain('return a + b');
  });

  it('hands the editor diagnostics to the model', async () => {
    const a = await start([
      { builder: 'tool_call_reply', calls: [['diagnostics', { paths: ['app.py'] }]] },
      { builder: 'text_reply', text: 'One problem.' },
    ]);
    const uri = a.uri('app.py');
    a.diagnostics.set(uri, [
      {
        range: { start: { line: 1, character: 11 }, end: { line: 1, character: 16 } },
        message: 'add subtracts',
        severity: 0, // vscode.DiagnosticSeverity.Error
        source: 'lint',
        code: { value: 'X1' },
      },
    ]);
    a.user.answers = ['Allow once'];
    const result = await a.controller.prompt('what is wrong?');
    expect(result.stopReason).toBe('end_turn');
    const asked = a.languageRequests.filter((r) => r.method === 'textDocument/diagnostic');
    expect(asked.map((r) => (r.params.textDocument as { uri: string }).uri)).toContain(uri);
    const sent = JSON.stringify(model!.requests().at(-1)!.body.messages);
    expect(sent).toContain('add subtracts');
  });

  it("runs the server's code actions in the extension's session, with their editor context", async () => {
    const a = await start([
      { builder: 'text_reply', text: 'I would change - to +.' },
      { builder: 'text_reply', text: 'It adds two numbers.' },
    ]);
    const uri = a.open('app.py');
    const diagnostic = {
      range: { start: { line: 1, character: 11 }, end: { line: 1, character: 16 } },
      message: 'add subtracts',
      severity: 1,
      source: 'lint',
    };
    const actions = (await a.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    })) as Array<{ title: string; kind?: string; command: { command: string; arguments: unknown[] } }>;
    const fix = actions.find((x) => x.command.command === 'lspAgent.fix')!;
    const ask = actions.find((x) => x.command.command === 'lspAgent.ask')!;
    expect(fix.title).toBe('Ask agent to fix: add subtracts');
    expect(fix.kind).toBe('quickfix');
    expect(ask.title).toBe('Ask agent about selection');

    // What the executeCommand middleware does with them:
    const fixing = fixRequest(fix.command.arguments[0]);
    expect(fixing.context).toMatchObject({ textDocument: { uri }, range: diagnostic.range, diagnostics: [{ message: 'add subtracts' }] });
    expect((await a.controller.prompt(fixing.prompt, fixing.context)).stopReason).toBe('end_turn');
    const asking = askRequest(ask.command.arguments[0], 'What does this do?');
    expect((await a.controller.prompt(asking.prompt, asking.context)).stopReason).toBe('end_turn');

    // Both prompts reached the model with the file, the lines and the problem.
    const [first, second] = model!.requests().map((r) => JSON.stringify(r.body.messages));
    expect(first).toContain('Fix these problems');
    expect(first).toContain('Editor context: the user is in app.py');
    expect(first).toContain('add subtracts');
    expect(first).toContain('return a - b');
    expect(second).toContain('What does this do?');
    expect(second).toContain('Selected lines 2-2');
    // one session, two turns, in one transcript
    expect(a.controller.current!.state.entries.filter((e) => e.type === 'user')).toHaveLength(2);
  });

  it('cancelling while a permission question is open withdraws the question', async () => {
    const a = await start([editApp, { builder: 'text_reply', text: 'never reached' }]);
    const uri = a.open('app.py');
    a.user.answers = ['never']; // the user does not answer
    const pending = a.controller.prompt('fix add');
    await a.until(() => a.permissionRequests.length === 1, 'the permission request');
    expect(a.controller.cancel()).toBe(true);
    const result = await pending;
    expect(result.stopReason).toBe('cancelled');
    expect(a.docs.get(uri)!.text).toBe(APP);
    expect(a.applyEdits).toHaveLength(0);
  });

  it('cancels a stalled prompt', async () => {
    const a = await start([{ builder: 'text_reply', text: 'I am thinking very slowly', chunk_size: 4, stall_after: 3 }]);
    const pending = a.controller.prompt('take your time');
    await a.until(() => (a.controller.current?.agentText().length ?? 0) > 0, 'the first streamed text');
    expect(a.controller.running).toBe(true);
    expect(a.controller.cancel()).toBe(true);
    const result = await pending;
    expect(result.stopReason).toBe('cancelled');
    expect(a.controller.running).toBe(false);
    expect(a.controller.current!.state.entries.at(-1)).toMatchObject({ type: 'note', text: expect.stringContaining('Cancelled') });
  });

  it('refuses a second prompt in a running session with a clear error', async () => {
    const a = await start([{ builder: 'text_reply', text: 'slow answer', stall_after: 2 }]);
    const pending = a.controller.prompt('first');
    await a.until(() => (a.controller.current?.agentText().length ?? 0) > 0, 'the first streamed text');
    const sessionId = a.controller.current!.state.sessionId;
    await expect(a.connection.sendRequest(SESSION_PROMPT, { sessionId, prompt: 'second' })).rejects.toMatchObject({
      code: -32002,
      message: expect.stringContaining('already running'),
    });
    a.controller.cancel();
    expect((await pending).stopReason).toBe('cancelled');
  });

  it('lists sessions, and a reloaded window gets the transcript back through agent/session/load', async () => {
    const a = await start([editApp, { builder: 'text_reply', text: 'Done editing.' }]);
    a.open('app.py');
    a.user.answers = ['Allow once'];
    await a.controller.prompt('fix add');
    const live = a.controller.current!;
    const sessionId = live.state.sessionId;

    const sessions = await a.controller.list();
    expect(sessions.map((s) => s.sessionId)).toContain(sessionId);
    const summary = sessions.find((s) => s.sessionId === sessionId)!;
    expect(summary.turns).toBeGreaterThanOrEqual(1);
    expect(summary.cwd).toBe(root);

    // As after a window reload: a fresh model, filled by the replay.
    const before = a.updates.length;
    const loaded = await a.controller.load(sessionId);
    expect(loaded.sessionId).toBe(sessionId);
    const replayed = a.updates.slice(before);
    expect(replayed).toHaveLength(loaded.updates);
    expect(gapless(replayed.map((u) => u.seq))).toBe(true);
    const fresh = a.controller.current!;
    expect(fresh.agentText()).toBe('Done editing.');
    const tools = fresh.state.entries.filter((e) => e.type === 'tool');
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({ kind: 'edit', status: 'completed' });
    expect(fresh.state.entries[0]).toMatchObject({ type: 'user', text: expect.stringContaining('fix add') });

    // A replay into a brand-new model (another window) gives the same transcript.
    const other = new TranscriptModel(sessionId);
    replayed.forEach((u) => other.apply(u));
    expect(other.agentText()).toBe('Done editing.');
  });

  it('a new server process resumes a stored session (a window reload)', async () => {
    const a = await start([{ builder: 'text_reply', text: 'Remember me.' }]);
    await a.controller.prompt('hello');
    const sessionId = a.controller.current!.state.sessionId;
    // The window reloads: a new server on the same state dir; the controller restores the
    // session it remembered in workspaceState.
    const second = await startAgent(root, state, { settings: { ...USER_SETTINGS, 'model.baseUrl': model!.baseUrl } });
    try {
      const memento = new Map<string, unknown>([[LAST_SESSION_KEY, sessionId]]);
      const controller = new AgentController({
        get: <T>(key: string) => memento.get(key) as T | undefined,
        update: async (key: string, value: unknown) => void memento.set(key, value),
      });
      second.connection.onNotification(SESSION_UPDATE, (p: SessionUpdateParams) => controller.handleUpdate(p));
      controller.setConnection({
        sendRequest: (method, params) => second.connection.sendRequest(method, params),
        sendNotification: (method, params) => second.connection.sendNotification(method, params),
      });
      expect(await controller.restore()).toBe(true);
      expect(controller.current!.state.sessionId).toBe(sessionId);
      expect(controller.current!.agentText()).toBe('Remember me.');
      expect(controller.current!.state.entries[0]).toMatchObject({ type: 'user', text: 'hello' });
      // a session that is gone is forgotten
      memento.set(LAST_SESSION_KEY, 'no-such-session');
      await controller.setCurrent(undefined);
      memento.set(LAST_SESSION_KEY, 'no-such-session');
      expect(await controller.restore()).toBe(false);
      expect(memento.get(LAST_SESSION_KEY)).toBeUndefined();
    } finally {
      await second.stop();
    }
  });

  it('undoes the last turn through applyEdit on the open document', async () => {
    const a = await start([editApp, { builder: 'text_reply', text: 'Fixed.' }]);
    const uri = a.open('app.py');
    a.user.answers = ['Allow once'];
    await a.controller.prompt('fix add');
    expect(a.docs.get(uri)!.text).toContain('a + b');
    const result = await a.controller.undo();
    expect(result).toEqual({ revertedUris: [uri], conflicts: [] });
    expect(a.docs.get(uri)!.text).toBe(APP);
    expect(a.controller.current!.state.entries.at(-1)).toMatchObject({ type: 'note', text: 'Undid the last turn: reverted app.py.' });
  });
});
