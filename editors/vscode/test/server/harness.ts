/**
 * Driving the real Python server over stdio as the extension does: the same protocol
 * constants, the same controller, transcript model, permission logic, diagnostics and save
 * handlers, and the same settings mapping; only the VS Code UI is replaced by stubs and the
 * editor's documents by an in-memory map. The fake OpenAI model server is a real HTTP
 * server (tests/fakes/model_server.py) started per test with its own script.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { AgentController, type Connection } from '../../src/controller';
import { type CodeDiagnostic, getDiagnostics, saveDocuments } from '../../src/editorRequests';
import { answerLanguageFeature } from '../../src/languageFeatures';
import { type PermissionUI, askPermission } from '../../src/permissions';
import {
  CLIENT_CAPABILITIES,
  type DiffItem,
  GET_DIAGNOSTICS,
  type GetDiagnosticsParams,
  LANGUAGE_FEATURE,
  type LanguageFeatureParams,
  REQUEST_PERMISSION,
  REVIEW,
  type RequestPermissionParams,
  type ReviewParams,
  SAVE_DOCUMENTS,
  SESSION_UPDATE,
  type SaveDocumentsParams,
  type SessionUpdateParams,
} from '../../src/protocol';
import { ReviewEditor } from '../../src/review';
import { type Inspected, initializationOptions, restrictedSettings, serverSettingKeys, serverSettings } from '../../src/settings';

export const REPO = join(__dirname, '..', '..', '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

function venv(name: string): string | undefined {
  const file = join(REPO, '.venv', 'bin', name);
  return existsSync(file) ? file : undefined;
}

/** `lsp-agent` (the pytest wrapper sets LSP_AGENT_COMMAND), else the repo's venv. */
export const SERVER_COMMAND = process.env.LSP_AGENT_COMMAND || venv('lsp-agent');
/** The Python that runs the fake model server. */
export const PYTHON = process.env.LSP_AGENT_PYTHON || venv('python') || 'python3';

const children = new Set<ChildProcess>();

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
  }
  children.delete(child);
}

process.once('exit', () => children.forEach(kill));

// --- the fake model server -----------------------------------------------------------

export type ScriptEntry = Record<string, unknown>;

export interface ModelServer {
  baseUrl: string;
  /** The chat requests it received (from its --log file). */
  requests(): Array<{ path: string; body: { messages?: Array<{ role: string; content?: unknown }> } }>;
  stop(): void;
}

export async function startModelServer(dir: string, script: ScriptEntry[]): Promise<ModelServer> {
  const scriptFile = join(dir, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const logFile = `${scriptFile}.log`;
  writeFileSync(scriptFile, JSON.stringify(script));
  const child = spawn(PYTHON, ['-m', 'tests.fakes.model_server', '--script', scriptFile, '--log', logFile], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the model server did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const line = out.split('\n')[0]!;
      if (out.includes('\n') && /^\d+$/.test(line.trim())) {
        clearTimeout(timer);
        resolve(Number(line.trim()));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the model server exited (${code}): ${stderr}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [],
    stop: () => kill(child),
  };
}

// --- the editor ---------------------------------------------------------------------

export interface Doc {
  text: string;
  version: number;
  dirty: boolean;
}

interface Position {
  line: number;
  character: number;
}

interface TextEdit {
  range: { start: Position; end: Position };
  newText: string;
}

/** Apply LSP edits to a text (ASCII content: UTF-16 columns are characters). */
export function applyTextEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') {
      starts.push(i + 1);
    }
  }
  const offset = (p: Position) => (p.line >= starts.length ? text.length : Math.min(starts[p.line]! + p.character, text.length));
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  for (const e of sorted) {
    text = text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
  }
  return text;
}

/** What the stubbed user answers to permission requests, in order ("Allow once", "Show diff", …). */
export class StubUser implements PermissionUI {
  answers: Array<string | undefined | 'never'> = [];
  asked: Array<{ message: string; choices: string[] }> = [];
  diffsShown: DiffItem[] = [];

  ask(message: string, choices: string[]): Promise<string | undefined> {
    this.asked.push({ message, choices });
    const answer = this.answers.length ? this.answers.shift() : undefined;
    if (answer === 'never') {
      return new Promise(() => undefined);
    }
    return Promise.resolve(answer);
  }

  async showDiff(diff: DiffItem): Promise<void> {
    this.diffsShown.push(diff);
  }
}

export interface Agent {
  root: string;
  connection: ProtocolConnection;
  controller: AgentController;
  user: StubUser;
  docs: Map<string, Doc>;
  /** Every `agent/session/update` as received. */
  updates: SessionUpdateParams[];
  permissionRequests: RequestPermissionParams[];
  /** agent/review requests, answered by the extension's ReviewEditor (on the mocked `vscode`). */
  reviewRequests: ReviewParams[];
  reviews: ReviewEditor;
  diagnosticsRequests: GetDiagnosticsParams[];
  /** agent/languageFeature requests (the client advertises languageFeatures). */
  languageRequests: LanguageFeatureParams[];
  saveRequests: SaveDocumentsParams[];
  configurationRequests: unknown[];
  applyEdits: unknown[];
  progress: Array<{ token: unknown; value: { kind: string; message?: string; title?: string } }>;
  messages: Array<{ type: number; message: string }>;
  /** Diagnostics the "other language servers" report, by URI. */
  diagnostics: Map<string, CodeDiagnostic[]>;
  serverCapabilities: Record<string, unknown>;
  uri(name: string): string;
  open(name: string, text?: string): string;
  close(uri: string): void;
  /** The user changes an open buffer (unsaved): a new version, and didChange to the server. */
  change(uri: string, text: string): void;
  /** Change the user's settings as VS Code does: didChangeConfiguration, then the server pulls. */
  setSettings(settings: Record<string, unknown>): Promise<void>;
  /** Forget what was recorded, close the documents, start the next prompt in a new session. */
  reset(): Promise<void>;
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  stderr(): string;
  stop(): Promise<void>;
}

export interface AgentOptions {
  /** What the user set in VS Code's settings (relative keys, e.g. `model.baseUrl`). */
  settings?: Record<string, unknown>;
  stateDir?: string;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startAgent(root: string, state: string, options: AgentOptions = {}): Promise<Agent> {
  if (!SERVER_COMMAND) {
    throw new Error('no lsp-agent: set LSP_AGENT_COMMAND or create the repo venv');
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('OPENAI_')) {
      env[k] = v;
    }
  }
  env.LSP_AGENT_STATE_DIR = state;
  // Exactly the extension's command line: vscode-languageclient appends --stdio.
  const child = spawn(SERVER_COMMAND, ['serve', '--stdio'], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));

  let userSettings = options.settings ?? {};
  const docs = new Map<string, Doc>();
  const user = new StubUser();
  const controller = new AgentController();
  const reviews = new ReviewEditor();
  reviews.register();
  const waiters: Array<() => void> = [];
  const changed = () => waiters.forEach((w) => w());
  const agent: Agent = {
    root,
    connection,
    controller,
    user,
    docs,
    updates: [],
    permissionRequests: [],
    reviewRequests: [],
    reviews,
    diagnosticsRequests: [],
    languageRequests: [],
    saveRequests: [],
    configurationRequests: [],
    applyEdits: [],
    progress: [],
    messages: [],
    diagnostics: new Map(),
    serverCapabilities: {},
    uri: (name) => pathToFileURL(join(root, name)).toString(),
    open(name, text) {
      const uri = agent.uri(name);
      const body = text ?? readFileSync(join(root, name), 'utf8');
      docs.set(uri, { text: body, version: 1, dirty: false });
      void connection.sendNotification('textDocument/didOpen', {
        textDocument: { uri, languageId: 'python', version: 1, text: body },
      });
      return uri;
    },
    until(predicate, what, timeoutMs = 20_000) {
      if (predicate()) {
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
        const check = () => {
          if (predicate()) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        waiters.push(check);
      });
    },
    change(uri, text) {
      const doc = docs.get(uri)!;
      doc.text = text;
      doc.version++;
      doc.dirty = true;
      void connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: doc.version },
        contentChanges: [{ text }],
      });
    },
    close(uri) {
      docs.delete(uri);
      void connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    },
    async setSettings(settings) {
      userSettings = settings;
      const pulls = agent.configurationRequests.length;
      // vscode-languageclient's synchronize.configurationSection sends this on a change.
      await connection.sendNotification('workspace/didChangeConfiguration', { settings: { lspAgent: null } });
      await agent.until(() => agent.configurationRequests.length > pulls, 'the server to pull the settings');
    },
    async reset() {
      for (const uri of [...docs.keys()]) {
        agent.close(uri);
      }
      for (const list of [
        agent.updates,
        agent.permissionRequests,
        agent.reviewRequests,
        agent.diagnosticsRequests,
        agent.languageRequests,
        agent.saveRequests,
        agent.applyEdits,
        agent.progress,
        agent.messages,
      ] as unknown[][]) {
        list.length = 0;
      }
      agent.diagnostics.clear();
      user.answers = [];
      user.asked = [];
      user.diffsShown = [];
      await controller.setCurrent(undefined);
    },
    stderr: () => stderr,
    async stop() {
      try {
        await Promise.race([
          connection.sendRequest('shutdown').then(() => connection.sendNotification('exit')),
          new Promise((r) => setTimeout(r, 5000)),
        ]);
        await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      } finally {
        connection.dispose();
        kill(child);
      }
    },
  };

  // --- the handlers, as client.ts registers them ---
  connection.onNotification(SESSION_UPDATE, (params: SessionUpdateParams) => {
    agent.updates.push(params);
    controller.handleUpdate(params);
    changed();
  });
  connection.onRequest(REQUEST_PERMISSION, (params: RequestPermissionParams, token) => {
    agent.permissionRequests.push(params);
    changed();
    return askPermission(params, user, token);
  });
  connection.onRequest(REVIEW, (params: ReviewParams, token) => {
    agent.reviewRequests.push(params);
    const answer = reviews.review(params, token);
    changed();
    return answer;
  });
  connection.onRequest(GET_DIAGNOSTICS, (params: GetDiagnosticsParams) => {
    agent.diagnosticsRequests.push(params);
    return getDiagnostics(params, {
      all: () => [...agent.diagnostics.entries()],
      of: (uri) => agent.diagnostics.get(uri) ?? [],
    });
  });
  // an editor whose only language intelligence is its diagnostics (no language server)
  connection.onRequest(LANGUAGE_FEATURE, (params: LanguageFeatureParams) => {
    agent.languageRequests.push(params);
    const none = () => Promise.resolve(undefined);
    return answerLanguageFeature(params, {
      definition: none,
      references: none,
      hover: none,
      documentSymbols: none,
      workspaceSymbols: none,
      rename: none,
      codeActions: none,
      diagnostics: (uri) => (uri === undefined ? [...agent.diagnostics.entries()] : [[uri, agent.diagnostics.get(uri) ?? []]]),
    });
  });
  connection.onRequest(SAVE_DOCUMENTS, (params: SaveDocumentsParams) => {
    agent.saveRequests.push(params);
    return saveDocuments(params, {
      find: (uri) => {
        const doc = docs.get(uri);
        if (!doc) {
          return undefined;
        }
        return {
          isDirty: doc.dirty,
          save: async () => {
            writeFileSync(new URL(uri), doc.text);
            doc.dirty = false;
            return true;
          },
        };
      },
    });
  });
  // What VS Code does for a versioned workspace edit to open documents.
  connection.onRequest('workspace/applyEdit', (params: { edit: { documentChanges?: unknown[] }; label?: string }): { applied: boolean; failureReason?: string } => {
    agent.applyEdits.push(params);
    changed();
    for (const raw of params.edit.documentChanges ?? []) {
      const change = raw as { textDocument: { uri: string; version: number | null }; edits: TextEdit[] };
      const doc = docs.get(change.textDocument.uri);
      if (!doc || (change.textDocument.version !== null && change.textDocument.version !== doc.version)) {
        return { applied: false, failureReason: 'the document changed' };
      }
      doc.text = applyTextEdits(doc.text, change.edits);
      doc.version++;
      doc.dirty = true;
      void connection.sendNotification('textDocument/didChange', {
        textDocument: { uri: change.textDocument.uri, version: doc.version },
        contentChanges: [{ text: doc.text }],
      });
    }
    return { applied: true };
  });
  const inspect = (key: string): Inspected | undefined => (key in userSettings ? { globalValue: userSettings[key] } : undefined);
  const settings = () =>
    serverSettings(serverSettingKeys(PACKAGE), inspect, { trusted: true, restricted: restrictedSettings(PACKAGE) });
  connection.onRequest('workspace/configuration', (params: { items: Array<{ section?: string }> }) => {
    agent.configurationRequests.push(params);
    changed();
    return params.items.map((item) => (item.section === 'lspAgent' ? settings() : null));
  });
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onRequest('client/registerCapability', () => null);
  connection.onRequest('window/showMessageRequest', () => null);
  connection.onNotification('$/progress', (params: Agent['progress'][number]) => {
    agent.progress.push(params);
    changed();
  });
  connection.onNotification('window/showMessage', (params: { type: number; message: string }) => {
    agent.messages.push(params);
    changed();
  });
  connection.onNotification('window/logMessage', () => undefined);
  connection.listen();

  const rootUri = pathToFileURL(root).toString();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`lsp-agent serve exited (${code}) before initialize:\n${stderr.slice(-3000)}`))),
  );
  const slow = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`lsp-agent serve did not answer initialize in 30 s:\n${stderr.slice(-3000)}`)), 30_000).unref(),
  );
  const initialize = connection.sendRequest('initialize', {
    processId: process.pid,
    clientInfo: { name: 'Visual Studio Code', version: '1.100.3' },
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'ws' }],
    capabilities: {
      workspace: { applyEdit: true, configuration: true, workspaceEdit: { documentChanges: true }, didChangeConfiguration: { dynamicRegistration: true } },
      window: { workDoneProgress: true, showMessage: {} },
      textDocument: { synchronization: { didSave: true }, codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } } },
      experimental: { lspAgent: { ...CLIENT_CAPABILITIES } },
    },
    initializationOptions: initializationOptions(settings()),
  });
  exited.catch(() => undefined); // after a successful start, exiting is stop()'s business
  const init = (await Promise.race([initialize, exited, slow])) as { capabilities: Record<string, unknown> };
  agent.serverCapabilities = init.capabilities;
  await connection.sendNotification('initialized', {});
  controller.setConnection(asConnection(connection));
  return agent;
}

function asConnection(connection: ProtocolConnection): Connection {
  return {
    sendRequest: <R>(method: string, params: unknown) => connection.sendRequest(method, params) as Promise<R>,
    sendNotification: (method: string, params: unknown) => connection.sendNotification(method, params),
  };
}
