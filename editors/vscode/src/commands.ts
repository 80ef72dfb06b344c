/**
 * The palette commands (Agent: Ask…, Fix Problems in This File, Cancel, Resume Session…,
 * Undo Last Turn, Set API Key, …) and the server's code-action commands, which run in the
 * extension's current session so the transcript, the status bar and Cancel follow them.
 */

import * as vscode from 'vscode';
import { type AskBoxSources, askBox, workspaceFiles } from './askBox';
import { type AgentClient, type CommandRouter, SECRET_KEY } from './client';
import { type AgentController, Busy, errorMessage } from './controller';
import { toLspDiagnostic } from './editorRequests';
import { askInlineEdit, selectedLines, withEditorMentions } from './editorMentions';
import type { ContentBlock, InlineEdit, PromptContext, PromptResult, Range, ReviewMode, SessionSummary } from './protocol';
import { type PromptRequest, askRequest, fixFileRequest, fixRequest, runRequest } from './routing';
import type { TranscriptView } from './transcript/view';

export function toRange(r: vscode.Range): Range {
  return {
    start: { line: r.start.line, character: r.start.character },
    end: { line: r.end.line, character: r.end.character },
  };
}

/** The active file and its selection, as a prompt's context. */
export function editorContext(editor: vscode.TextEditor | undefined): PromptContext | undefined {
  if (!editor || editor.document.uri.scheme !== 'file') {
    return undefined;
  }
  const context: PromptContext = {
    textDocument: { uri: editor.document.uri.toString(), version: editor.document.version },
  };
  if (!editor.selection.isEmpty) {
    context.range = toRange(editor.selection);
  }
  return context;
}

function folderOf(uri: string | undefined): string | undefined {
  if (!uri) {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(uri));
  return (folder ?? vscode.workspace.workspaceFolders?.[0])?.uri.fsPath;
}

function ago(iso: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) {
    return iso;
  }
  const minutes = Math.round((Date.now() - then) / 60_000);
  if (minutes < 1) {
    return 'just now';
  }
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) {
    return `${hours} h ago`;
  }
  return new Date(then).toLocaleDateString();
}

export function sessionPickItems(sessions: SessionSummary[]): Array<vscode.QuickPickItem & { sessionId: string }> {
  return sessions.map((s) => ({
    label: s.title || '(untitled session)',
    description: `${s.turns} turn${s.turns === 1 ? '' : 's'} · ${ago(s.updatedAt)}`,
    detail: s.cwd,
    sessionId: s.sessionId,
  }));
}

export const REVIEW_CHOICES: Array<vscode.QuickPickItem & { id: ReviewMode }> = [
  { id: 'auto', label: 'auto', detail: 'No review: an edit lands once the permission mode allows it.' },
  { id: 'hunks', label: 'hunks', detail: 'Each edit opens as a diff; accept or reject it hunk by hunk. Only what you accept is written.' },
  { id: 'file', label: 'file', detail: 'Each edit opens as a diff; accept or reject the whole file.' },
];

export class AgentCommands implements CommandRouter {
  private client: AgentClient | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly controller: AgentController,
    private readonly view: TranscriptView,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  attach(client: AgentClient): void {
    this.client = client;
  }

  register(): vscode.Disposable[] {
    const commands: Record<string, () => unknown> = {
      'lsp-agent.ask': () => this.askCommand(),
      'lsp-agent.fixFile': () => this.fixFile(),
      'lsp-agent.editSelection': () => this.editSelection(),
      'lsp-agent.cancel': () => this.cancel(),
      'lsp-agent.resumeSession': () => this.resume(),
      'lsp-agent.undoLastTurn': () => this.undo(),
      'lsp-agent.setApiKey': () => this.setApiKey(),
      'lsp-agent.newSession': () => this.newSession(),
      'lsp-agent.showTranscript': () => this.view.show(),
      'lsp-agent.restartServer': () => this.client?.restart(),
      'lsp-agent.showLog': () => this.output.show(true),
      'lsp-agent.switchModel': () => this.switchModel(),
      'lsp-agent.switchMode': () => this.switchMode(),
      'lsp-agent.setReviewMode': () => this.setReviewMode(),
    };
    return Object.entries(commands).map(([id, run]) =>
      vscode.commands.registerCommand(id, async () => {
        try {
          await run();
        } catch (error) {
          void vscode.window.showErrorMessage(`lsp-agent: ${errorMessage(error)}`);
        }
      }),
    );
  }

  // --- starting prompts ------------------------------------------------------------------

  /**
   * Send a prompt and reveal the transcript; resolves when the prompt is answered. Failures
   * are shown to the user, never thrown.
   */
  async send(prompt: string | ContentBlock[], context?: PromptContext, inlineEdit?: InlineEdit): Promise<PromptResult | undefined> {
    if (!(await this.ensureConnected())) {
      return undefined;
    }
    if (this.controller.running) {
      const choice = await vscode.window.showWarningMessage(new Busy().message, 'Cancel It');
      if (choice === 'Cancel It') {
        this.controller.cancel();
      }
      return undefined;
    }
    void this.view.show();
    try {
      const cwd = folderOf(context?.textDocument?.uri ?? inlineEdit?.uri);
      const result = await this.controller.prompt(prompt, context, cwd, inlineEdit);
      if (result.error && result.stopReason !== 'cancelled') {
        void vscode.window.showErrorMessage(`lsp-agent: ${result.error}`, 'Show Transcript').then((c) => {
          if (c) {
            void this.view.show();
          }
        });
      }
      return result;
    } catch (error) {
      void vscode.window.showErrorMessage(`lsp-agent: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /** The command runs in the background: answer at once, like the server's commands do. */
  private start(request: PromptRequest): { sessionId?: string } {
    void this.send(request.prompt, request.context);
    return { sessionId: this.controller.current?.state.sessionId };
  }

  private async ensureConnected(): Promise<boolean> {
    if (this.controller.connected) {
      return true;
    }
    return (await this.client?.start()) ?? false;
  }

  async askCommand(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const context = editorContext(editor);
    const name = editor ? vscode.workspace.asRelativePath(editor.document.uri) : undefined;
    const prompt = await askBox(
      {
        title: 'Ask the agent',
        prompt: context ? `Context: ${name}${context.range ? ' (the selection)' : ''}` : undefined,
        placeHolder: 'What should the agent do? (/ for commands, @ for files, @problems, @selection)',
      },
      this.completionSources(context?.textDocument?.uri),
    );
    if (!prompt?.trim()) {
      return;
    }
    const mentioned = withEditorMentions(prompt.trim(), vscode.window.activeTextEditor ?? editor);
    for (const note of mentioned.notes) {
      void vscode.window.showWarningMessage(`lsp-agent: ${note}`);
    }
    if (mentioned.selection && context) {
      delete context.range; // @selection carries it
    }
    await this.send(mentioned.prompt, context);
  }

  /** "Agent: Edit Selection…": an instruction for the selected lines; the server lets the run edit only those. */
  async editSelection(): Promise<void> {
    const asked = await askInlineEdit(vscode.window.activeTextEditor);
    if (asked) {
      await this.send(asked.instruction, undefined, asked.inlineEdit);
    }
  }

  // --- mode and model, mid-session --------------------------------------------------------

  async switchMode(): Promise<void> {
    if (!(await this.ensureConnected())) {
      return;
    }
    const config = await this.controller.config({}, folderOf(undefined));
    const picked = await vscode.window.showQuickPick(
      config.modes.map((m) => ({ label: m.name, description: m.id === config.mode ? 'current' : undefined, detail: m.description, id: m.id })),
      { title: 'Permission mode for this session', placeHolder: `Now: ${config.mode}` },
    );
    if (picked && picked.id !== config.mode) {
      const now = await this.controller.config({ mode: picked.id });
      void vscode.window.showInformationMessage(`lsp-agent: this session now runs in ${now.mode} mode.`);
    }
  }

  /** auto / hunks / file for the current session (agent/session/config; kept with it). */
  async setReviewMode(): Promise<void> {
    if (!(await this.ensureConnected())) {
      return;
    }
    const config = await this.controller.config({}, folderOf(undefined));
    const current = config.review ?? 'auto';
    const picked = await vscode.window.showQuickPick(
      REVIEW_CHOICES.map((c) => ({ ...c, description: c.id === current ? 'current' : undefined })),
      { title: 'Review mode for this session', placeHolder: `Now: ${current}` },
    );
    if (picked && picked.id !== current) {
      const now = await this.controller.config({ review: picked.id });
      void vscode.window.showInformationMessage(`lsp-agent: this session's edits are now reviewed: ${now.review}.`);
    }
  }

  async switchModel(): Promise<void> {
    if (!(await this.ensureConnected())) {
      return;
    }
    const config = await this.controller.config({}, folderOf(undefined));
    const names = config.models.includes(config.model) ? config.models : [config.model, ...config.models];
    const items: Array<vscode.QuickPickItem & { name?: string }> = names.map((name) => ({
      label: name,
      description: name === config.model ? 'current' : undefined,
      name,
    }));
    items.push({ label: '$(edit) Other model…', alwaysShow: true });
    const picked = await vscode.window.showQuickPick(items, { title: 'Model for this session', placeHolder: `Now: ${config.model}` });
    if (!picked) {
      return;
    }
    const name =
      picked.name ??
      (await vscode.window.showInputBox({ title: 'Model name', prompt: 'As the server names it', value: config.model, ignoreFocusOut: true }))?.trim();
    if (name && name !== config.model) {
      const now = await this.controller.config({ model: name });
      void vscode.window.showInformationMessage(`lsp-agent: this session now uses ${now.model}.`);
    }
  }

  private completionSources(uri: string | undefined): AskBoxSources {
    return {
      commands: async () => ((await this.ensureConnected()) ? this.controller.commands(folderOf(uri)) : []),
      files: workspaceFiles,
      selection: () => {
        const editor = vscode.window.activeTextEditor;
        const selected = selectedLines(editor);
        return editor && selected ? { path: vscode.workspace.asRelativePath(editor.document.uri, false), first: selected.first, last: selected.last } : undefined;
      },
    };
  }

  async fixFile(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('lsp-agent: open a file to fix first.');
      return;
    }
    const diagnostics = vscode.languages
      .getDiagnostics(editor.document.uri)
      .filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning)
      .map(toLspDiagnostic);
    if (!diagnostics.length) {
      void vscode.window.showInformationMessage('lsp-agent: this file has no errors or warnings to fix.');
      return;
    }
    const request = fixFileRequest(editor.document.uri.toString(), editor.document.version, diagnostics);
    await this.send(request.prompt, request.context);
  }

  // --- the server's code-action commands (CommandRouter) ----------------------------------

  /** "Ask agent to fix: …" */
  async fix(raw: unknown): Promise<unknown> {
    return this.start(fixRequest(raw));
  }

  /** "Ask agent about selection": the server leaves the prompt to us. */
  async ask(raw: unknown): Promise<unknown> {
    askRequest(raw, '?'); // check the arguments before asking the user anything
    const prompt = (
      await vscode.window.showInputBox({
        title: 'Ask the agent about the selection',
        placeHolder: 'What should the agent do with the selected code?',
        value: typeof (raw as { prompt?: unknown })?.prompt === 'string' ? (raw as { prompt: string }).prompt : undefined,
        ignoreFocusOut: true,
      })
    )?.trim();
    if (!prompt) {
      return undefined;
    }
    return this.start(askRequest(raw, prompt));
  }

  async run(raw: unknown): Promise<unknown> {
    return this.start(runRequest(raw));
  }

  // --- session commands ------------------------------------------------------------------

  cancel(): void {
    if (!this.controller.cancel()) {
      void vscode.window.showInformationMessage('lsp-agent: nothing is running.');
    }
  }

  async resume(): Promise<void> {
    if (!(await this.ensureConnected())) {
      return;
    }
    const sessions = await this.controller.list();
    if (!sessions.length) {
      void vscode.window.showInformationMessage('lsp-agent: there is no session to resume in this workspace yet.');
      return;
    }
    const picked = await vscode.window.showQuickPick(sessionPickItems(sessions), {
      title: 'Resume an agent session',
      placeHolder: 'Pick a session',
      matchOnDetail: true,
    });
    if (!picked) {
      return;
    }
    void this.view.show();
    await this.controller.load(picked.sessionId);
  }

  async undo(): Promise<void> {
    if (!(await this.ensureConnected())) {
      return;
    }
    const result = await this.controller.undo();
    if (result.conflicts.length && !result.revertedUris.length) {
      const names = result.conflicts.map((u) => vscode.Uri.parse(u).fsPath).map((p) => vscode.workspace.asRelativePath(p));
      const choice = await vscode.window.showWarningMessage(
        `lsp-agent: not undone — ${names.join(', ')} changed since the agent edited ${names.length === 1 ? 'it' : 'them'}.`,
        'Undo Anyway',
      );
      if (choice === 'Undo Anyway') {
        const forced = await this.controller.undo(true);
        void vscode.window.showInformationMessage(`lsp-agent: reverted ${forced.revertedUris.length} file(s).`);
      }
      return;
    }
    if (result.revertedUris.length) {
      void vscode.window.showInformationMessage(`lsp-agent: reverted ${result.revertedUris.length} file(s).`);
    } else {
      void vscode.window.showInformationMessage('lsp-agent: the last turn edited no file.');
    }
  }

  async newSession(): Promise<void> {
    await this.controller.setCurrent(undefined);
    void this.view.show();
  }

  async setApiKey(): Promise<void> {
    const envName = vscode.workspace.getConfiguration('lspAgent').get<string>('model.apiKeyEnv') || 'OPENAI_API_KEY';
    const key = await vscode.window.showInputBox({
      title: 'lsp-agent: API key',
      prompt: `Stored in VS Code's secret storage and given to the server as ${envName}. Leave empty to remove the stored key.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) {
      return;
    }
    if (key.trim()) {
      await this.context.secrets.store(SECRET_KEY, key.trim());
    } else {
      await this.context.secrets.delete(SECRET_KEY);
    }
    const started = await this.client?.restart();
    if (started) {
      void vscode.window.showInformationMessage(
        key.trim() ? 'lsp-agent: API key stored; the server restarted with it.' : 'lsp-agent: API key removed; the server restarted.',
      );
    }
  }
}
