/** agent/languageFeature: VS Code's provider results -> LSP JSON, and bad requests refused. */

import { describe, expect, it } from 'vitest';
import {
  type CodeTextEdit,
  type CodeUri,
  type EditorLanguage,
  answerLanguageFeature,
  toLspSymbolKind,
} from '../../src/languageFeatures';
import * as vscode from '../vscode.mock';

const LIB = vscode.Uri.file('/ws/lib.py');
const APP = vscode.Uri.file('/ws/app my.py'); // a space: the URI is VS Code's spelling
const at = (line: number, start: number, end: number) => new vscode.Range(line, start, line, end);
const lsp = (line: number, start: number, end: number) => ({
  start: { line, character: start },
  end: { line, character: end },
});

function workspaceEdit(entries: Array<[CodeUri, CodeTextEdit[]]>) {
  return { entries: () => entries };
}

/** An editor whose language servers know `greet` in two files; records what it was asked. */
function editor(): EditorLanguage & { asked: unknown[][] } {
  const asked: unknown[][] = [];
  const answer = <T>(value: T, ...args: unknown[]) => {
    asked.push(args);
    return Promise.resolve(value);
  };
  return {
    asked,
    definition: (uri, pos) =>
      answer(
        [{ targetUri: LIB, targetRange: at(0, 0, 30), targetSelectionRange: at(0, 4, 9), originSelectionRange: at(2, 6, 11) }],
        'definition',
        uri,
        pos,
      ),
    references: (uri, pos) =>
      answer(
        [
          { uri: LIB, range: at(0, 4, 9) },
          { uri: APP, range: at(2, 6, 11) },
        ],
        'references',
        uri,
        pos,
      ),
    hover: () =>
      answer([
        { contents: [new vscode.MarkdownString('```python\ndef greet(name: str) -> str\n```')] },
        { contents: ['', { language: 'python', value: 'greet' }] },
      ]),
    documentSymbols: () =>
      answer([
        {
          name: 'Greeter',
          detail: 'class',
          kind: 4, // vscode.SymbolKind.Class
          range: at(0, 0, 40),
          selectionRange: at(0, 6, 13),
          children: [{ name: 'greet', kind: 5, range: at(1, 4, 30), selectionRange: at(1, 8, 13) }],
        },
      ]),
    workspaceSymbols: (query) =>
      answer([{ name: 'greet', kind: 11, containerName: 'lib', location: { uri: LIB, range: at(0, 4, 9) } }], query),
    rename: (uri, pos, newName) =>
      answer(
        workspaceEdit([
          [LIB, [{ range: at(0, 4, 9), newText: newName }]],
          [APP, [{ range: at(0, 16, 21), newText: newName }, { range: at(2, 6, 11), newText: newName }]],
        ]),
        'rename',
        uri,
        pos,
        newName,
      ),
    codeActions: () =>
      answer([
        {
          title: 'Import "os"',
          kind: { value: 'quickfix' },
          isPreferred: true,
          diagnostics: [new vscode.Diagnostic(at(3, 0, 2), '"os" is not defined', vscode.DiagnosticSeverity.Error)],
          edit: workspaceEdit([[APP, [{ range: at(0, 0, 0), newText: 'import os\n' }]]]),
          command: { title: 'log', command: 'python.log', arguments: [APP] },
        },
        { title: 'Organize imports', command: 'editor.organize' },
        { title: 'Ask lsp-agent', kind: { value: 'quickfix' }, command: { title: 'Ask', command: 'lspAgent.ask' } },
      ]),
    diagnostics: (uri) =>
      uri === undefined
        ? [
            [LIB.toString(), []],
            [APP.toString(), [new vscode.Diagnostic(at(3, 0, 2), 'bad', vscode.DiagnosticSeverity.Warning)]],
            ['untitled:Untitled-1', [new vscode.Diagnostic(at(0, 0, 1), 'x', vscode.DiagnosticSeverity.Error)]],
          ]
        : [[uri, [new vscode.Diagnostic(at(3, 0, 2), 'bad', vscode.DiagnosticSeverity.Hint)]]],
  };
}

const doc = { textDocument: { uri: APP.toString() }, position: { line: 2, character: 6 } };

describe('agent/languageFeature answers in LSP JSON', () => {
  it('definition: a LocationLink becomes its target selection', async () => {
    const e = editor();
    const result = await answerLanguageFeature({ method: 'textDocument/definition', params: doc }, e);
    expect(result).toEqual([{ uri: 'file:///ws/lib.py', range: lsp(0, 4, 9) }]);
    expect(e.asked[0]).toEqual(['definition', 'file:///ws/app%20my.py', { line: 2, character: 6 }]);
  });

  it('references across files', async () => {
    const result = await answerLanguageFeature({ method: 'textDocument/references', params: doc }, editor());
    expect(result).toEqual([
      { uri: 'file:///ws/lib.py', range: lsp(0, 4, 9) },
      { uri: 'file:///ws/app%20my.py', range: lsp(2, 6, 11) },
    ]);
  });

  it('hover: every server’s contents as one markdown value', async () => {
    const result = await answerLanguageFeature({ method: 'textDocument/hover', params: doc }, editor());
    expect(result).toEqual({
      contents: { kind: 'markdown', value: '```python\ndef greet(name: str) -> str\n```\n\n---\n\ngreet' },
    });
  });

  it('symbols: 1-based LSP kinds, children kept', async () => {
    const result = await answerLanguageFeature(
      { method: 'textDocument/documentSymbol', params: { textDocument: { uri: LIB.toString() } } },
      editor(),
    );
    expect(result).toEqual([
      {
        name: 'Greeter',
        detail: 'class',
        kind: 5,
        range: lsp(0, 0, 40),
        selectionRange: lsp(0, 6, 13),
        children: [{ name: 'greet', kind: 6, range: lsp(1, 4, 30), selectionRange: lsp(1, 8, 13), children: [] }],
      },
    ]);
    const found = await answerLanguageFeature({ method: 'workspace/symbol', params: { query: 'gre' } }, editor());
    expect(found).toEqual([
      { name: 'greet', kind: 12, containerName: 'lib', location: { uri: 'file:///ws/lib.py', range: lsp(0, 4, 9) } },
    ]);
    expect(toLspSymbolKind(0)).toBe(1);
    expect(toLspSymbolKind(99)).toBe(13);
  });

  it('rename: the WorkspaceEdit as changes per URI (applied by the server, not here)', async () => {
    const e = editor();
    const result = await answerLanguageFeature(
      { method: 'textDocument/rename', params: { ...doc, newName: 'welcome' } },
      e,
    );
    expect(result).toEqual({
      changes: {
        'file:///ws/lib.py': [{ range: lsp(0, 4, 9), newText: 'welcome' }],
        'file:///ws/app%20my.py': [
          { range: lsp(0, 16, 21), newText: 'welcome' },
          { range: lsp(2, 6, 11), newText: 'welcome' },
        ],
      },
    });
    expect(e.asked[0]?.[3]).toBe('welcome');
  });

  it('code actions: edits converted, bare commands kept, lsp-agent’s own left out', async () => {
    const result = await answerLanguageFeature(
      { method: 'textDocument/codeAction', params: { textDocument: doc.textDocument, range: lsp(3, 0, 0), context: {} } },
      editor(),
    );
    expect(result).toEqual([
      {
        title: 'Import "os"',
        kind: 'quickfix',
        isPreferred: true,
        diagnostics: [{ range: lsp(3, 0, 2), message: '"os" is not defined', severity: 1 }],
        edit: { changes: { 'file:///ws/app%20my.py': [{ range: lsp(0, 0, 0), newText: 'import os\n' }] } },
        command: { title: 'log', command: 'python.log' },
      },
      { title: 'Organize imports', command: 'editor.organize' },
    ]);
  });

  it('diagnostics of a file, and of the workspace (file: URIs with problems only)', async () => {
    const one = await answerLanguageFeature({ method: 'textDocument/diagnostic', params: doc }, editor());
    expect(one).toEqual({ kind: 'full', items: [{ range: lsp(3, 0, 2), message: 'bad', severity: 4 }] });
    const all = await answerLanguageFeature({ method: 'workspace/diagnostic', params: {} }, editor());
    expect(all).toEqual({
      items: [
        {
          uri: 'file:///ws/app%20my.py',
          kind: 'full',
          version: null,
          items: [{ range: lsp(3, 0, 2), message: 'bad', severity: 2 }],
        },
      ],
    });
  });

  it('no answer from any server is an empty result, not an error', async () => {
    const empty: EditorLanguage = {
      ...editor(),
      definition: () => Promise.resolve(undefined),
      hover: () => Promise.resolve([]),
      rename: () => Promise.resolve(undefined),
    };
    expect(await answerLanguageFeature({ method: 'textDocument/definition', params: doc }, empty)).toEqual([]);
    expect(await answerLanguageFeature({ method: 'textDocument/hover', params: doc }, empty)).toBeNull();
    expect(
      await answerLanguageFeature({ method: 'textDocument/rename', params: { ...doc, newName: 'x' } }, empty),
    ).toBeNull();
  });

  it('refuses what it cannot answer with an error', async () => {
    const e = editor();
    await expect(answerLanguageFeature({ method: 'workspace/executeCommand' as never, params: {} }, e)).rejects.toThrow(
      /cannot answer workspace\/executeCommand/,
    );
    await expect(
      answerLanguageFeature({ method: 'textDocument/definition', params: { textDocument: {} } }, e),
    ).rejects.toThrow(/textDocument.uri/);
    await expect(
      answerLanguageFeature({ method: 'textDocument/references', params: { textDocument: doc.textDocument } }, e),
    ).rejects.toThrow(/position/);
    expect(e.asked).toEqual([]);
  });
});
