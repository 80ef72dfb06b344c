/** @problems and @selection become embedded resources; the selection is also an inline edit's range. */

import { beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { inlineEditOf, selectedLines, withEditorMentions } from '../../src/editorMentions';
import { PROBLEMS_URI } from '../../src/protocol';
import { languages, resetVscodeMock } from '../vscode.mock';

const LINES = ['def f():', '    return 1', '', 'print(f())'];

function editor(start: [number, number], end: [number, number], scheme = 'file'): vscode.TextEditor {
  const uri = { scheme, toString: () => `${scheme}:///ws/a.py`, fsPath: '/ws/a.py' };
  const document = {
    uri,
    lineAt: (line: number) => ({ text: LINES[line] ?? '' }),
    getText: (r: vscode.Range) => {
      const rows = LINES.slice(r.start.line, r.end.line + 1);
      rows[rows.length - 1] = (rows[rows.length - 1] ?? '').slice(0, r.end.character);
      return rows.join('\n');
    },
  };
  const selection = new vscode.Selection(new vscode.Position(...start), new vscode.Position(...end));
  return { document, selection } as unknown as vscode.TextEditor;
}

const fileUri = (path: string) => ({ scheme: 'file', toString: () => `file://${path}` });

describe('editor mentions', () => {
  beforeEach(() => resetVscodeMock());

  it('sends a plain prompt as text', () => {
    expect(withEditorMentions('fix @a.py please', undefined)).toEqual({ prompt: 'fix @a.py please', notes: [], selection: false });
    expect(withEditorMentions('mail me@problems.com', undefined).prompt).toBe('mail me@problems.com');
  });

  it('attaches the whole lines of the selection, with their range in the URI', () => {
    // a selection ending at character 0 of line 3 covers lines 1-2 (0-based 0-1... of 1-based 1-2)
    const chosen = editor([0, 4], [2, 0]);
    expect(selectedLines(chosen)).toEqual({ uri: 'file:///ws/a.py', first: 1, last: 2, text: 'def f():\n    return 1' });
    const { prompt, notes, selection } = withEditorMentions('explain @selection.', chosen);
    expect(notes).toEqual([]);
    expect(selection).toBe(true);
    expect(prompt).toEqual([
      { type: 'text', text: 'explain @selection.' },
      { type: 'resource', resource: { uri: 'file:///ws/a.py#L1-2', text: 'def f():\n    return 1' } },
    ]);
  });

  it('says so when nothing is selected, or the editor is not a file', () => {
    for (const chosen of [undefined, editor([1, 2], [1, 2]), editor([0, 0], [1, 3], 'untitled')]) {
      const { prompt, notes } = withEditorMentions('explain @selection', chosen);
      expect(prompt).toBe('explain @selection');
      expect(notes[0]).toContain('no text is selected');
    }
  });

  it('attaches the diagnostics of files as the problems resource', () => {
    const error = new vscode.Diagnostic(new vscode.Range(1, 4, 1, 9), 'bad return', vscode.DiagnosticSeverity.Error);
    error.source = 'lint';
    const warning = new vscode.Diagnostic(new vscode.Range(3, 0, 3, 5), 'unused', vscode.DiagnosticSeverity.Warning);
    languages.getDiagnostics.mockImplementation(() => [
      [fileUri('/ws/a.py'), [error, warning]],
      [{ scheme: 'git', toString: () => 'git:/ws/a.py' }, [error]],
      [fileUri('/ws/clean.py'), []],
    ]);
    const { prompt } = withEditorMentions('fix @problems', undefined);
    expect(Array.isArray(prompt)).toBe(true);
    const block = (prompt as Array<{ type: string; resource?: { uri: string; text: string; mimeType?: string } }>)[1]!;
    expect(block.resource?.uri).toBe(PROBLEMS_URI);
    expect(block.resource?.mimeType).toBe('application/json');
    expect(JSON.parse(block.resource!.text)).toEqual([
      {
        uri: 'file:///ws/a.py',
        diagnostics: [
          { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } }, message: 'bad return', severity: 1, source: 'lint' },
          { range: { start: { line: 3, character: 0 }, end: { line: 3, character: 5 } }, message: 'unused', severity: 2 },
        ],
      },
    ]);
  });

  it('caps the problems it sends', () => {
    const many = Array.from({ length: 800 }, (_, i) => new vscode.Diagnostic(new vscode.Range(i, 0, i, 1), `p${i}`));
    languages.getDiagnostics.mockImplementation(() => [[fileUri('/ws/a.py'), many], [fileUri('/ws/b.py'), many]]);
    const block = (withEditorMentions('@problems', undefined).prompt as Array<{ resource?: { text: string } }>)[1]!;
    const sent = JSON.parse(block.resource!.text) as Array<{ diagnostics: unknown[] }>;
    expect(sent).toHaveLength(1);
    expect(sent[0]?.diagnostics).toHaveLength(500);
  });

  it('gives the selection as the inline edit range, as the editor has it', () => {
    expect(inlineEditOf(editor([1, 4], [3, 2]))).toEqual({
      uri: 'file:///ws/a.py',
      range: { start: { line: 1, character: 4 }, end: { line: 3, character: 2 } },
    });
    expect(inlineEditOf(editor([1, 4], [1, 4]))).toBeUndefined();
    expect(inlineEditOf(undefined)).toBeUndefined();
  });
});
