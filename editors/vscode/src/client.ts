/**
 * The language client: starts `lsp-agent serve` (command or Python from the settings, the
 * API key from SecretStorage in its environment), advertises and answers the agent
 * requests, forwards updates to the controller, and routes the server's code-action
 * commands into the extension's sessions.
 */

import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  LanguageClient,
  type LanguageClientOptions,
  type ServerCapabilities,
  type ServerOptions,
  State,
  type StaticFeature,
  TransportKind,
} from 'vscode-languageclient/node';
import type { Connection } from './controller';
import { AgentController, errorMessage } from './controller';
import type { DiffDocuments } from './diffs';
import { type CodeDiagnostic, getDiagnostics, saveDocuments } from './editorRequests';
import { type EditorLanguage, answerLanguageFeature } from './languageFeatures';
import { StderrLines, findExecutable, startFailureMessage } from './launch';
import { type PermissionUI, askPermission } from './permissions';
import type { ReviewEditor } from './review';
import {
  CLIENT_CAPABILITIES,
  CMD_ASK,
  CMD_FIX,
  CMD_RUN,
  GET_DIAGNOSTICS,
  type GetDiagnosticsParams,
  LANGUAGE_FEATURE,
  type LanguageFeatureParams,
  REQUEST_PERMISSION,
  REVIEW,
  type RequestPermissionParams,
  SAVE_DOCUMENTS,
  SESSION_UPDATE,
  SETTINGS_SECTION,
  type SaveDocumentsParams,
  type SessionUpdateParams,
} from './protocol';
import {
  type ClientSettings,
  type ServerLaunch,
  initializationOptions,
  restrictedSettings,
  serverLaunch,
  serverSettingKeys,
  serverSettings,
} from './settings';

export const CLIENT_ID = 'lspAgent';
export const CLIENT_NAME = 'lsp-agent';
export const SECRET_KEY = 'lspAgent.apiKey';
const STDERR_KEPT = 40;
const STDERR_WAIT_MS = 1000;

/** The server's code-action commands the extension runs itself (see CommandRouter). */
export interface CommandRouter {
  ask(args: unknown): Promise<unknown>;
  fix(args: unknown): Promise<unknown>;
  run(args: unknown): Promise<unknown>;
}

/** Adds `capabilities.experimental.lspAgent`, and reads the server's version of it. */
export class AgentCapabilitiesFeature implements StaticFeature {
  serverVersion: number | undefined;

  getState(): { kind: 'static' } {
    return { kind: 'static' };
  }

  fillClientCapabilities(capabilities: { experimental?: unknown }): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, lspAgent: { ...CLIENT_CAPABILITIES } };
  }

  initialize(capabilities: ServerCapabilities): void {
    const agent = (capabilities.experimental as { lspAgent?: { version?: number } } | undefined)?.lspAgent;
    this.serverVersion = agent?.version;
  }

  clear(): void {
    this.serverVersion = undefined;
  }
}

/** The user-set `lspAgent` settings for the server (never `lspAgent.server.*`). */
export function currentServerSettings(extension: vscode.ExtensionContext['extension']): Record<string, Record<string, unknown>> {
  const pkg = extension.packageJSON;
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return serverSettings(serverSettingKeys(pkg), (key) => config.inspect(key), {
    trusted: vscode.workspace.isTrusted,
    restricted: restrictedSettings(pkg),
  });
}

export function vscodePermissionUI(diffs: DiffDocuments): PermissionUI {
  return {
    ask: (message, choices) => vscode.window.showWarningMessage(message, { modal: false }, ...choices),
    showDiff: (diff) => diffs.open(diff),
    showText: async (text) => {
      const doc = await vscode.workspace.openTextDocument({ content: text, language: 'shellscript' });
      await vscode.window.showTextDocument(doc, { preview: true });
    },
  };
}

function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export class AgentClient implements vscode.Disposable {
  client: LanguageClient | undefined;
  readonly capabilities = new AgentCapabilitiesFeature();
  private stderr = StderrLines.none();
  private configListener: vscode.Disposable | undefined;
  private initialized = false;
  private starting: Promise<boolean> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly controller: AgentController,
    private readonly output: vscode.LogOutputChannel,
    private readonly diffs: DiffDocuments,
    private readonly router: CommandRouter,
    private readonly reviews?: ReviewEditor,
  ) {}

  /** Start the server; false (after telling the user why) if it could not start. */
  start(): Promise<boolean> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
    const folder = workspaceFolderPath();
    const launch = serverLaunch(
      {
        command: config.get<string>('server.command'),
        args: config.get<string[]>('server.args'),
        pythonPath: config.get<string>('server.pythonPath'),
        logLevel: config.get<string>('server.logLevel'),
      } satisfies Partial<ClientSettings>,
      folder,
      os.homedir(),
    );
    const env = await this.serverEnvironment();
    if (!findExecutable(launch.command, env, folder)) {
      this.output.error(`server command not found: ${launch.command}`);
      void this.showStartFailure(startFailureMessage(launch, 'missing', []));
      return false;
    }
    this.output.info(`starting: ${[launch.command, ...launch.args, '--stdio'].join(' ')}`);
    this.stderr = StderrLines.none(); // until the new process has a stderr
    const client = this.createClient(launch, env, folder);
    this.client = client;
    this.initialized = false;
    try {
      await client.start();
    } catch (error) {
      this.output.error(`the server failed to start: ${errorMessage(error)}`);
      this.client = undefined;
      this.controller.setConnection(undefined);
      void client.dispose().catch(() => undefined);
      // The connection often breaks before the dying server's last words reach us.
      const stderr = await this.stderr.settled(STDERR_WAIT_MS);
      void this.showStartFailure(startFailureMessage(launch, 'exited', stderr.length ? stderr : [errorMessage(error)]));
      return false;
    }
    this.initialized = true;
    client.started = true;
    this.controller.setConnection(connectionOf(client));
    this.configListener?.dispose();
    this.configListener = vscode.workspace.onDidChangeConfiguration((event) => this.settingsChanged(event));
    // After a window reload or a restart: show the session the user was in (replayed).
    await this.controller.restore();
    return true;
  }

  /** The server's environment: VS Code's, plus the stored API key under `model.apiKeyEnv`. */
  async serverEnvironment(): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const key = await this.context.secrets.get(SECRET_KEY);
    if (key) {
      const name = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<string>('model.apiKeyEnv') || 'OPENAI_API_KEY';
      env[name] = key;
    }
    return env;
  }

  /**
   * A change to the server's settings: tell it (`workspace/didChangeConfiguration`, carrying
   * the user-set values); it pulls them with `workspace/configuration` when it can.
   * Changes to `lspAgent.server.*` restart the server instead (extension.ts).
   */
  settingsChanged(event: vscode.ConfigurationChangeEvent): void {
    const client = this.client;
    if (!client || !event.affectsConfiguration(SETTINGS_SECTION)) {
      return;
    }
    const keys = serverSettingKeys(this.context.extension.packageJSON);
    if (!keys.some((key) => event.affectsConfiguration(`${SETTINGS_SECTION}.${key}`))) {
      return;
    }
    const settings = { [SETTINGS_SECTION]: currentServerSettings(this.context.extension) };
    void client.sendNotification('workspace/didChangeConfiguration', { settings }).catch((error: unknown) => {
      this.output.warn(`could not send the settings: ${errorMessage(error)}`);
    });
  }

  async stop(): Promise<void> {
    this.configListener?.dispose();
    this.configListener = undefined;
    const client = this.client;
    this.client = undefined;
    this.controller.setConnection(undefined);
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping the server: ${errorMessage(error)}`);
      }
    }
  }

  async restart(): Promise<boolean> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    return this.start();
  }

  dispose(): void {
    void this.stop();
  }

  private async showStartFailure(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Log');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'lspAgent.server');
    } else if (choice === 'Show Log') {
      this.output.show(true);
    }
  }

  private createClient(launch: ServerLaunch, env: NodeJS.ProcessEnv, cwd: string | undefined): QuietStartLanguageClient {
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio, // vscode-languageclient appends --stdio
      options: { env, cwd },
    };
    const extension = this.context.extension;
    let client: QuietStartLanguageClient | undefined = undefined;
    let fallback: ErrorHandler | undefined = undefined;
    const defaults = () => (fallback ??= client!.createDefaultErrorHandler(4)); // keeps its restart count
    const errorHandler: ErrorHandler = {
      error: (error, message, count): ErrorHandlerResult | Promise<ErrorHandlerResult> => defaults().error(error, message, count),
      closed: (): CloseHandlerResult | Promise<CloseHandlerResult> => {
        if (!this.initialized) {
          return { action: CloseAction.DoNotRestart, handled: true }; // start() reports it
        }
        return defaults().closed();
      },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      initializationOptions: () => initializationOptions(currentServerSettings(extension)),
      // No `synchronize.configurationSection`: it sends didChangeConfiguration right after
      // `initialized`, with VS Code's whole section (defaults and lspAgent.server.* included).
      // settingsChanged() pushes the filtered settings instead, and only on a change.
      errorHandler,
      initializationFailedHandler: () => false, // no retry, no extra message: start() reports it
      stdioOptions: {
        stdout: (input, channel) => input.on('data', (data: Buffer) => channel.info(String(data))),
        stderr: (input, channel) => {
          const lines = new StderrLines(STDERR_KEPT, (line) => logServerLine(channel, line));
          this.stderr = lines;
          input.on('data', (data: Buffer) => lines.push(data));
          input.on('end', () => lines.end());
          input.on('close', () => lines.end());
        },
      },
      middleware: {
        executeCommand: (command, args, next) => {
          if (command === CMD_ASK) {
            return this.router.ask(args[0]);
          }
          if (command === CMD_FIX) {
            return this.router.fix(args[0]);
          }
          if (command === CMD_RUN) {
            return this.router.run(args[0]);
          }
          return next(command, args);
        },
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            const ours = currentServerSettings(extension);
            return params.items.map((item, i) => {
              if (item.section === SETTINGS_SECTION) {
                return ours;
              }
              if (item.section?.startsWith(`${SETTINGS_SECTION}.`)) {
                return ours[item.section.slice(SETTINGS_SECTION.length + 1)] ?? {};
              }
              return answers[i];
            });
          },
        },
      },
    };
    client = new QuietStartLanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    client.registerFeature(this.capabilities);
    client.onNotification(SESSION_UPDATE, (params: SessionUpdateParams) => this.controller.handleUpdate(params));
    client.onRequest(REQUEST_PERMISSION, (params: RequestPermissionParams, token) =>
      askPermission(params, vscodePermissionUI(this.diffs), token),
    );
    const reviews = this.reviews;
    if (reviews) {
      client.onRequest(REVIEW, (params: unknown, token) => reviews.review(params, token));
    }
    client.onRequest(GET_DIAGNOSTICS, (params: GetDiagnosticsParams) =>
      getDiagnostics(params, {
        all: () => vscode.languages.getDiagnostics().map(([uri, ds]) => [uri.toString(), ds as readonly CodeDiagnostic[]]),
        of: (uri) => vscode.languages.getDiagnostics(vscode.Uri.parse(uri)) as readonly CodeDiagnostic[],
      }),
    );
    client.onRequest(LANGUAGE_FEATURE, (params: LanguageFeatureParams) =>
      answerLanguageFeature(params, vscodeLanguage()),
    );
    client.onRequest(SAVE_DOCUMENTS, (params: SaveDocumentsParams) =>
      saveDocuments(params, {
        find: (uri) => {
          const wanted = vscode.Uri.parse(uri).toString();
          return vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === wanted);
        },
      }),
    );
    client.onDidChangeState((event) => {
      if (event.newState === State.Running && this.initialized) {
        this.controller.setConnection(connectionOf(client!));
      } else if (event.newState === State.Stopped) {
        this.controller.setConnection(undefined);
      }
    });
    return client;
  }

}

/** The language intelligence of every extension VS Code runs, for `agent/languageFeature`. */
export function vscodeLanguage(): EditorLanguage {
  const uri = (value: string) => vscode.Uri.parse(value);
  const pos = (at: { line: number; character: number }) => new vscode.Position(at.line, at.character);
  const run = <T>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);
  return {
    definition: (u, at) => run('vscode.executeDefinitionProvider', uri(u), pos(at)),
    references: (u, at) => run('vscode.executeReferenceProvider', uri(u), pos(at)),
    hover: (u, at) => run('vscode.executeHoverProvider', uri(u), pos(at)),
    documentSymbols: (u) => run('vscode.executeDocumentSymbolProvider', uri(u)),
    workspaceSymbols: (query) => run('vscode.executeWorkspaceSymbolProvider', query),
    rename: (u, at, newName) => run('vscode.executeDocumentRenameProvider', uri(u), pos(at), newName),
    // 50: resolve the edits of that many actions, so they come with their WorkspaceEdit
    codeActions: (u, r) =>
      run('vscode.executeCodeActionProvider', uri(u), new vscode.Range(pos(r.start), pos(r.end)), undefined, 50),
    diagnostics: (u) =>
      u === undefined
        ? vscode.languages.getDiagnostics().map(([key, ds]) => [key.toString(), ds as readonly CodeDiagnostic[]])
        : [[u, vscode.languages.getDiagnostics(uri(u)) as readonly CodeDiagnostic[]]],
  };
}

/**
 * A LanguageClient that stays quiet while the server starts: a failed start is explained once,
 * by AgentClient, with the fix and a button to the settings, instead of vscode-languageclient's
 * generic "couldn't create connection" and "initialization failed" notifications.
 */
export class QuietStartLanguageClient extends LanguageClient {
  started = false;

  override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
    super.error(message, data, this.started ? showNotification : false);
  }
}

function connectionOf(client: LanguageClient): Connection {
  return {
    sendRequest: <R>(method: string, params: unknown) => client.sendRequest<R>(method, params),
    sendNotification: (method: string, params: unknown) => client.sendNotification(method, params),
  };
}

/** The server's stderr log lines ("… WARNING name: message") at their level. */
function logServerLine(channel: vscode.LogOutputChannel, line: string): void {
  if (!line.trim()) {
    return;
  }
  if (/\b(ERROR|CRITICAL|Traceback)\b/.test(line)) {
    channel.error(line);
  } else if (/\bWARNING\b/.test(line)) {
    channel.warn(line);
  } else if (/\bDEBUG\b/.test(line)) {
    channel.debug(line);
  } else {
    channel.info(line);
  }
}
