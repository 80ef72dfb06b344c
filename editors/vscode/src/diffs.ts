/**
 * Agent edits in VS Code's diff editor: both sides are virtual read-only documents
 * (`lsp-agent-diff:` URIs) holding the old and the new text, so a proposed edit can be shown
 * before it is applied and a past one after the file changed again.
 */

import * as vscode from 'vscode';
import type { DiffItem } from './protocol';
import { basename } from './transcript/render';

export const DIFF_SCHEME = 'lsp-agent-diff';
const KEPT = 100; // documents kept for open diff editors

export class DiffDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private next = 0;

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  /** A virtual document with this text; its name ends like the file, for highlighting. */
  document(path: string, side: 'before' | 'after', text: string, id: number): vscode.Uri {
    const key = `/${id}/${side}/${basename(path)}`;
    this.texts.set(key, text);
    while (this.texts.size > KEPT * 2) {
      const oldest = this.texts.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      this.texts.delete(oldest);
    }
    return vscode.Uri.from({ scheme: DIFF_SCHEME, path: key });
  }

  uris(diff: DiffItem): { left: vscode.Uri; right: vscode.Uri; title: string } {
    const id = this.next++;
    const name = basename(diff.path);
    const left = this.document(diff.path, 'before', diff.oldText ?? '', id);
    const right = this.document(diff.path, 'after', diff.newText, id);
    const title = diff.oldText === null ? `${name} (new file, by the agent)` : `${name} (edit by the agent)`;
    return { left, right, title };
  }

  async open(diff: DiffItem): Promise<void> {
    const { left, right, title } = this.uris(diff);
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true });
  }
}
