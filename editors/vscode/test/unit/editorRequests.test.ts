import { describe, expect, it, vi } from 'vitest';
import {
  type DiagnosticsSource,
  getDiagnostics,
  saveDocuments,
  toLspDiagnostic,
  toLspSeverity,
} from '../../src/editorRequests';
import * as vscode from '../vscode.mock';

function diagnostic(message: string, severity: vscode.DiagnosticSeverity, line = 3): vscode.Diagnostic {
  return new vscode.Diagnostic(new vscode.Range(line, 4, line, 9), message, severity);
}

describe('diagnostics conversion', () => {
  it('maps VS Code severities (0-based) to LSP (1-based)', () => {
    expect(toLspSeverity(vscode.DiagnosticSeverity.Error)).toBe(1);
    expect(toLspSeverity(vscode.DiagnosticSeverity.Warning)).toBe(2);
    expect(toLspSeverity(vscode.DiagnosticSeverity.Information)).toBe(3);
    expect(toLspSeverity(vscode.DiagnosticSeverity.Hint)).toBe(4);
    expect(toLspSeverity(7)).toBe(1);
  });

  it('keeps 0-based positions, source, code and tags', () => {
    const d = diagnostic('"foo" is not defined', vscode.DiagnosticSeverity.Warning);
    d.source = 'Pylance';
    d.code = { value: 'reportUndefinedVariable', target: vscode.Uri.parse('https://example.com/rule') };
    d.tags = [vscode.DiagnosticTag.Unnecessary];
    expect(toLspDiagnostic(d)).toEqual({
      range: { start: { line: 3, character: 4 }, end: { line: 3, character: 9 } },
      message: '"foo" is not defined',
      severity: 2,
      source: 'Pylance',
      code: 'reportUndefinedVariable',
      tags: [1],
    });
  });

  it('leaves out what is not there', () => {
    const d = diagnostic('bad', vscode.DiagnosticSeverity.Error);
    d.code = 42;
    expect(toLspDiagnostic(d)).toEqual({
      range: { start: { line: 3, character: 4 }, end: { line: 3, character: 9 } },
      message: 'bad',
      severity: 1,
      code: 42,
    });
  });
});

describe('agent/getDiagnostics', () => {
  const a = 'file:///ws/a.py';
  const b = 'file:///ws/b%20c.py';
  const source: DiagnosticsSource = {
    all: () => [
      [a, [diagnostic('one', vscode.DiagnosticSeverity.Error)]],
      [b, []],
      ['untitled:Untitled-1', [diagnostic('draft', vscode.DiagnosticSeverity.Error)]],
      ['git:/ws/a.py', [diagnostic('old', vscode.DiagnosticSeverity.Error)]],
    ],
    of: (uri) => (uri === a ? [diagnostic('one', vscode.DiagnosticSeverity.Error)] : []),
  };

  it('answers for the URIs asked, in the server spelling, even when clean', () => {
    const result = getDiagnostics({ uris: [a, 'file:///ws/clean.py'] }, source);
    expect(result.items.map((i) => i.uri)).toEqual([a, 'file:///ws/clean.py']);
    expect(result.items[0]!.diagnostics[0]).toMatchObject({ message: 'one', severity: 1 });
    expect(result.items[1]!.diagnostics).toEqual([]);
  });

  it('answers for every file with problems when no URI is given', () => {
    const result = getDiagnostics({}, source);
    expect(result.items.map((i) => i.uri)).toEqual([a]);
    expect(getDiagnostics(null, source).items).toHaveLength(1);
    expect(getDiagnostics({ uris: null }, source).items).toHaveLength(1);
  });
});

describe('agent/saveDocuments', () => {
  it('saves dirty documents and counts clean or closed ones as saved', async () => {
    const dirty = { isDirty: true, save: vi.fn(async () => true) };
    const clean = { isDirty: false, save: vi.fn(async () => true) };
    const refused = { isDirty: true, save: vi.fn(async () => false) };
    const broken = {
      isDirty: true,
      save: vi.fn(async (): Promise<boolean> => {
        throw new Error('disk full');
      }),
    };
    const docs: Record<string, typeof dirty> = {
      'file:///ws/dirty.py': dirty,
      'file:///ws/clean.py': clean,
      'file:///ws/refused.py': refused,
      'file:///ws/broken.py': broken,
    };
    const result = await saveDocuments(
      { uris: [...Object.keys(docs), 'file:///ws/closed.py'] },
      { find: (uri) => docs[uri] },
    );
    expect(result.saved).toEqual(['file:///ws/dirty.py', 'file:///ws/clean.py', 'file:///ws/closed.py']);
    expect(dirty.save).toHaveBeenCalledOnce();
    expect(clean.save).not.toHaveBeenCalled();
  });
});
