import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type Inspected,
  expandPath,
  explicitValue,
  initializationOptions,
  restrictedSettings,
  serverLaunch,
  serverSettingKeys,
  serverSettings,
} from '../../src/settings';
import * as vscode from '../vscode.mock';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function inspector(values: Record<string, Inspected>) {
  return (key: string) => values[key];
}

describe('settings -> initializationOptions', () => {
  const keys = serverSettingKeys(pkg);
  const trusted = { trusted: true, restricted: restrictedSettings(pkg) };

  it('knows the server settings and leaves out lspAgent.server.*', () => {
    expect(keys).toContain('model.baseUrl');
    expect(keys).toContain('permissions.mode');
    expect(keys).toContain('editor.saveBeforeShell');
    expect(keys.filter((k) => k.startsWith('server.'))).toEqual([]);
  });

  it('sends only what the user set, nested by group, never the defaults', () => {
    const settings = serverSettings(
      keys,
      inspector({
        'model.baseUrl': { defaultValue: 'http://127.0.0.1:8080/v1', globalValue: 'http://gpu:8000/v1' },
        'model.name': { defaultValue: 'default' },
        'model.temperature': { defaultValue: null, globalValue: 0 },
        'model.contextWindow': { defaultValue: null, workspaceValue: null },
        'permissions.allow': { defaultValue: [], workspaceValue: ['bash(git diff*)'] },
        'limits.maxTurns': { defaultValue: 50, globalValue: 10, workspaceValue: 20, workspaceFolderValue: 30 },
        'editor.followAgent': { defaultValue: false, globalValue: true },
        'server.command': { defaultValue: 'lsp-agent', globalValue: '/opt/lsp-agent' },
      }),
      trusted,
    );
    expect(settings).toEqual({
      model: { baseUrl: 'http://gpu:8000/v1', temperature: 0, contextWindow: null },
      permissions: { allow: ['bash(git diff*)'] },
      limits: { maxTurns: 30 },
      editor: { followAgent: true },
    });
    expect(initializationOptions(settings)).toEqual({ lspAgent: settings });
  });

  it('ignores what an untrusted workspace says about restricted settings', () => {
    const values = inspector({
      'model.baseUrl': { globalValue: 'http://mine/v1', workspaceValue: 'http://evil/v1' },
      'permissions.mode': { workspaceValue: 'auto' },
      'limits.maxTurns': { workspaceValue: 5 },
    });
    const untrusted = { trusted: false, restricted: restrictedSettings(pkg) };
    expect(serverSettings(keys, values, untrusted)).toEqual({ model: { baseUrl: 'http://mine/v1' }, limits: { maxTurns: 5 } });
    expect(serverSettings(keys, values, trusted)).toEqual({
      model: { baseUrl: 'http://evil/v1' },
      permissions: { mode: 'auto' },
      limits: { maxTurns: 5 },
    });
  });

  it('copies values, so later changes in VS Code do not leak in', () => {
    const headers = { 'X-Team': 'a' };
    const out = serverSettings(['model.headers'], inspector({ 'model.headers': { globalValue: headers } }), trusted);
    headers['X-Team'] = 'b';
    expect(out.model!.headers).toEqual({ 'X-Team': 'a' });
  });

  it('prefers the most specific scope', () => {
    expect(explicitValue({ globalValue: 1, workspaceValue: 2 }, true)).toBe(2);
    expect(explicitValue({ globalValue: 1, workspaceValue: 2 }, false)).toBe(1);
    expect(explicitValue({ defaultValue: 1 }, true)).toBeUndefined();
    expect(explicitValue(undefined, true)).toBeUndefined();
  });
});

describe('the VS Code binding', () => {
  beforeEach(() => vscode.resetVscodeMock());

  it('reads the lspAgent section with inspect()', async () => {
    const { currentServerSettings } = await import('../../src/client');
    vscode.configuration.set('lspAgent.model.name', { defaultValue: 'default', globalValue: 'qwen' });
    vscode.configuration.set('lspAgent.permissions.mode', { defaultValue: 'ask', workspaceValue: 'accept-edits' });
    vscode.configuration.set('lspAgent.server.pythonPath', { defaultValue: '', globalValue: '/usr/bin/python3' });
    const extension = { packageJSON: pkg } as never;
    expect(currentServerSettings(extension)).toEqual({ model: { name: 'qwen' }, permissions: { mode: 'accept-edits' } });
    vscode.workspace.isTrusted = false;
    expect(currentServerSettings(extension)).toEqual({ model: { name: 'qwen' } });
  });
});

describe('starting the server', () => {
  it('runs lsp-agent serve by default', () => {
    expect(serverLaunch({}, undefined, '/home/u')).toEqual({ command: 'lsp-agent', args: ['serve'] });
  });

  it('runs python -m lsp_agent when a Python is set', () => {
    expect(serverLaunch({ pythonPath: '${workspaceFolder}/.venv/bin/python', logLevel: 'debug' }, '/ws', '/home/u')).toEqual({
      command: '/ws/.venv/bin/python',
      args: ['-m', 'lsp_agent', 'serve', '--log-level', 'debug'],
    });
  });

  it('takes the command and arguments from the settings', () => {
    expect(serverLaunch({ command: '~/bin/lsp-agent', args: ['serve', '--state-dir', '/tmp/s'] }, undefined, '/home/u')).toEqual({
      command: '/home/u/bin/lsp-agent',
      args: ['serve', '--state-dir', '/tmp/s'],
    });
    expect(serverLaunch({ command: '', args: [] }, undefined, '/h').command).toBe('lsp-agent');
  });

  it('expands ${userHome} and leaves unknown variables alone', () => {
    expect(expandPath('${userHome}/x ${foo}', undefined, '/h')).toBe('/h/x ${foo}');
    expect(expandPath('${workspaceFolder}/x', undefined, '/h')).toBe('${workspaceFolder}/x');
  });
});
