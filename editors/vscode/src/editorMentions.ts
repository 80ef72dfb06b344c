/**
 * `@problems` and `@selection` in a prompt: what only the editor knows, sent with the prompt
 * as embedded resources (the server's `lsp_agent/server/prompt_content.py` reads them), and
 * the active editor's selection as an inline edit's range.
 */

import * as vscode from 'vscode';
import { toLspDiagnostic } from './editorRequests';
import { type ContentBlock, type Diagnostic, type InlineEdit, PROBLEMS_URI } from './protocol';

const PROBLEMS = /(?:^|\s)@problems(?=$|[\s.,;:!?)])/;
const SELECTION = /(?:^|\s)@selection(?=$|[\s.,;:!?)])/;
const MAX_PROBLEMS = 500; // the server lists 200; a few more let it say how many there were

export interface Selected {
  uri: string;
  /** 1-based, inclusive. */
  first: number;
  last: number;
  text: string;
}

/** The whole lines a selection covers (one ending at character 0 stops at the line before). */
export function selectedLines(editor: vscode.TextEditor | undefined): Selected | undefined {
  if (!editor || editor.document.uri.scheme !== 'file' || editor.selection.isEmpty) {
    return undefined;
  }
  const { start, end } = editor.selection;
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  const range = new vscode.Range(start.line, 0, last, editor.document.lineAt(last).text.length);
  return { uri: editor.document.uri.toString(), first: start.line + 1, last: last + 1, text: editor.document.getText(range) };
}

/** The editor's diagnostics of files, as the `@problems` resource carries them. */
export function currentProblems(): Array<{ uri: string; diagnostics: Diagnostic[] }> {
  const out: Array<{ uri: string; diagnostics: Diagnostic[] }> = [];
  let count = 0;
  for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
    if (uri.scheme !== 'file' || diagnostics.length === 0 || count >= MAX_PROBLEMS) {
      continue;
    }
    const kept = diagnostics.slice(0, MAX_PROBLEMS - count).map(toLspDiagnostic);
    count += kept.length;
    out.push({ uri: uri.toString(), diagnostics: kept });
  }
  return out;
}

export interface Mentioned {
  prompt: string | ContentBlock[];
  /** What could not be attached, for a warning. */
  notes: string[];
  /** The selection went as `@selection`: the context need not repeat it. */
  selection: boolean;
}

/** The prompt with `@problems` and `@selection` attached as embedded resources. */
export function withEditorMentions(text: string, editor: vscode.TextEditor | undefined): Mentioned {
  const blocks: ContentBlock[] = [];
  const notes: string[] = [];
  let selection = false;
  if (PROBLEMS.test(text)) {
    const resource = { uri: PROBLEMS_URI, mimeType: 'application/json', text: JSON.stringify(currentProblems()) };
    blocks.push({ type: 'resource', resource });
  }
  if (SELECTION.test(text)) {
    const selected = selectedLines(editor);
    if (selected) {
      blocks.push({ type: 'resource', resource: { uri: `${selected.uri}#L${selected.first}-${selected.last}`, text: selected.text } });
      selection = true;
    } else {
      notes.push('@selection: no text is selected in a file editor, so none is attached.');
    }
  }
  return { prompt: blocks.length ? [{ type: 'text', text }, ...blocks] : text, notes, selection };
}

/** The active editor's selection as an inline edit's range (undefined: nothing selected). */
export function inlineEditOf(editor: vscode.TextEditor | undefined): InlineEdit | undefined {
  const selected = selectedLines(editor);
  if (!selected || !editor) {
    return undefined;
  }
  const { start, end } = editor.selection;
  return {
    uri: selected.uri,
    range: { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } },
  };
}

/** Ask for an inline edit's instruction (a quick input) for the active editor's selection. */
export async function askInlineEdit(editor: vscode.TextEditor | undefined): Promise<{ instruction: string; inlineEdit: InlineEdit } | undefined> {
  const selected = selectedLines(editor);
  const inlineEdit = inlineEditOf(editor);
  if (!editor || !selected || !inlineEdit) {
    void vscode.window.showInformationMessage('lsp-agent: select the lines to edit first.');
    return undefined;
  }
  const name = vscode.workspace.asRelativePath(editor.document.uri);
  const lines = selected.first === selected.last ? `line ${selected.first}` : `lines ${selected.first}-${selected.last}`;
  const instruction = (
    await vscode.window.showInputBox({
      title: `Agent: Edit ${name}, ${lines}`,
      prompt: 'The agent may change only the selected lines.',
      placeHolder: 'What should change? (e.g. add type hints)',
      ignoreFocusOut: true,
    })
  )?.trim();
  return instruction ? { instruction, inlineEdit } : undefined;
}
