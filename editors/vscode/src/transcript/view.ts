/**
 * The transcript as a webview view. The extension renders HTML (render.ts) and posts it;
 * the page swaps it in, keeps expanded tool calls expanded, follows the bottom, and sends
 * clicks back (diffs, file locations).
 *
 * Never a full re-render per update: changes are gathered for a frame (FRAME_MS), then one
 * message carries only the entries that changed (a patch); the whole page is sent only for
 * a first render, a reset (a session load) or another session.
 */

import * as vscode from 'vscode';
import type { AgentController } from '../controller';
import type { DiffDocuments } from '../diffs';
import type { TranscriptModel } from './model';
import { agentBlocks, renderPatch, renderTranscript } from './render';

export const VIEW_ID = 'lspAgent.transcript';
export const FRAME_MS = 16;

type FromPage =
  | { type: 'ready' }
  | { type: 'openDiff'; toolCallId: string; index: number }
  | { type: 'openLocation'; path: string; line?: number | null }
  | { type: 'command'; command: string };

export class TranscriptView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRendered = -1;
  private lastModel: TranscriptModel | undefined;
  /** The page's answer blocks per entry index (renderPatch sends only the new ones). */
  private sent = new Map<number, number>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: AgentController,
    private readonly diffs: DiffDocuments,
  ) {}

  register(): vscode.Disposable {
    const registration = vscode.window.registerWebviewViewProvider(VIEW_ID, this, {
      webviewOptions: { retainContextWhenHidden: true },
    });
    const listener = this.controller.onDidChange(() => this.schedule());
    return vscode.Disposable.from(registration, listener, { dispose: () => clearTimeout(this.timer) });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'dist', 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = this.page(view.webview, media);
    view.webview.onDidReceiveMessage((message: FromPage) => this.receive(message));
    view.onDidChangeVisibility(() => {
      if (view.visible) {
        this.render(true);
      }
    });
    view.onDidDispose(() => {
      this.view = undefined;
    });
  }

  /** Reveal the view (after a command started a prompt). */
  async show(): Promise<void> {
    if (this.view) {
      this.view.show(true);
      return;
    }
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
  }

  private schedule(): void {
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.render(false);
      }, FRAME_MS);
    }
  }

  private render(force: boolean): void {
    if (!this.view) {
      return;
    }
    const model = this.controller.current;
    const revision = model?.revision ?? -1;
    if (!force && model === this.lastModel && revision === this.lastRendered) {
      return;
    }
    const same = model !== undefined && model === this.lastModel;
    this.lastModel = model;
    this.lastRendered = revision;
    this.view.description = model?.state.title || undefined;
    const changes = model?.takeChanges();
    if (same && !force && changes && !changes.full) {
      void this.view.webview.postMessage(renderPatch(model.state, changes.entries, this.sent));
      return;
    }
    this.sent = new Map();
    model?.state.entries.forEach((entry, index) => {
      if (entry.type === 'agent') {
        this.sent.set(index, agentBlocks(entry).blocks.length);
      }
    });
    const html = model ? renderTranscript(model.state) : emptyPage(this.controller.connected);
    void this.view.webview.postMessage({ type: 'render', html });
  }

  private async receive(message: FromPage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.render(true);
        return;
      case 'openDiff': {
        const diff = this.controller.current?.tool(message.toolCallId)?.diffs[message.index];
        if (diff) {
          await this.diffs.open(diff);
        }
        return;
      }
      case 'openLocation': {
        const uri = vscode.Uri.file(message.path);
        const line = typeof message.line === 'number' ? Math.max(0, message.line - 1) : 0;
        const position = new vscode.Position(line, 0);
        await vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position), preview: true });
        return;
      }
      case 'command':
        if (message.command.startsWith('lsp-agent.')) {
          await vscode.commands.executeCommand(message.command);
        }
        return;
    }
  }

  private page(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = makeNonce();
    const css = webview.asWebviewUri(vscode.Uri.joinPath(media, 'transcript.css'));
    const codicons = webview.asWebviewUri(vscode.Uri.joinPath(media, 'codicon.css'));
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'transcript.js'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} https: data:`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${codicons}" rel="stylesheet">
<link href="${css}" rel="stylesheet">
<title>Agent</title>
</head>
<body>
<main id="transcript" aria-live="polite"></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}

function emptyPage(connected: boolean): string {
  if (!connected) {
    return '<p class="empty">The lsp-agent server is not running. Check the <b>lsp-agent</b> output, or run <b>Agent: Restart Server</b>.</p>';
  }
  return '<p class="empty">Ask the agent something: run <b>Agent: Ask…</b>, or pick <b>Ask agent to fix</b> on a problem.</p>';
}

function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += chars.charAt(Math.floor(Math.random() * chars.length));
  }
  return out;
}
