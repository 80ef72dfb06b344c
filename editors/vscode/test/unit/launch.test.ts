import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StderrLines, findExecutable, startFailureMessage } from '../../src/launch';

const dir = mkdtempSync(join(tmpdir(), 'lsp-agent-launch-'));
const tool = join(dir, 'lsp-agent');
writeFileSync(tool, '#!/bin/sh\n');
chmodSync(tool, 0o755);
writeFileSync(join(dir, 'not-executable'), '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('finding the server', () => {
  it('searches PATH for a bare name and checks paths directly', () => {
    expect(findExecutable('lsp-agent', { PATH: `/nowhere:${dir}` })).toBe(tool);
    expect(findExecutable('lsp-agent', { PATH: '/nowhere' })).toBeUndefined();
    expect(findExecutable(tool, {})).toBe(tool);
    expect(findExecutable('./lsp-agent', {}, dir)).toBe(tool);
    expect(findExecutable(join(dir, 'not-executable'), {})).toBeUndefined();
    expect(findExecutable('', { PATH: dir })).toBeUndefined();
  });
});

describe('explaining a failed start', () => {
  it('names the missing command and the fix', () => {
    const message = startFailureMessage({ command: 'lsp-agent', args: ['serve'] }, 'missing', []);
    expect(message).toBe(
      'lsp-agent: the server command "lsp-agent" was not found. Install it with `pip install lsp-agent`, ' +
        'or set "lspAgent.server.command" (or "lspAgent.server.pythonPath") in the settings.',
    );
  });

  it('names a missing Python', () => {
    const message = startFailureMessage({ command: '/venv/bin/python', args: ['-m', 'lsp_agent', 'serve'] }, 'missing', []);
    expect(message).toContain('the Python "/venv/bin/python" (lspAgent.server.pythonPath) was not found');
  });

  it('tells how to install into a Python without lsp_agent', () => {
    const stderr = ['/usr/bin/python3: No module named lsp_agent'];
    const message = startFailureMessage({ command: '/usr/bin/python3', args: ['-m', 'lsp_agent', 'serve'] }, 'exited', stderr);
    expect(message).toContain('"/usr/bin/python3" has no lsp_agent module. Run `/usr/bin/python3 -m pip install lsp-agent`');
  });

  it('quotes the last line the server printed', () => {
    const message = startFailureMessage({ command: 'lsp-agent', args: ['serve'] }, 'exited', ['Traceback', 'ImportError: boom', '']);
    expect(message).toContain('exited at start: ImportError: boom.');
  });
});

describe("the server's stderr", () => {
  it('splits lines across chunks, keeps the last ones and the unterminated tail', async () => {
    const seen: string[] = [];
    const lines = new StderrLines(2, (line) => seen.push(line));
    lines.push('Traceback (most');
    lines.push(' recent call last):\r\n  File "x"\n');
    lines.push("/usr/bin/python3: No module named lsp_agent");
    expect(lines.lines).toEqual(['Traceback (most recent call last):', '  File "x"']);
    lines.end();
    expect(await lines.settled(10_000)).toEqual(['  File "x"', '/usr/bin/python3: No module named lsp_agent']);
    expect(seen).toHaveLength(3);
  });

  it('waits for the end of the stream, but not forever', async () => {
    const open = new StderrLines(5);
    open.push('still talking\n');
    expect(await open.settled(5)).toEqual(['still talking']);
    expect(await StderrLines.none().settled(10_000)).toEqual([]);
  });
});
