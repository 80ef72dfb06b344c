/**
 * Finding the server before starting it, and explaining a failed start: the two ways a new
 * user meets a missing server (a command that is not there, a Python without lsp_agent).
 * Node only, no `vscode`.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServerLaunch } from './settings';

export const INSTALL_HINT = 'pip install lsp-agent';

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform === 'win32') {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The file a command runs (searching PATH for a bare name), or undefined if there is none. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv, cwd?: string): string | undefined {
  if (!command) {
    return undefined;
  }
  const exts = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';')] : [''];
  if (command.includes('/') || command.includes('\\')) {
    const full = path.resolve(cwd ?? process.cwd(), command);
    return exts.map((e) => full + e).find(isExecutable);
  }
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The start failed: a message saying what happened and what to do. */
export function startFailureMessage(launch: ServerLaunch, reason: 'missing' | 'exited', stderr: string[]): string {
  const shown = [launch.command, ...launch.args].join(' ');
  const usesPython = launch.args[0] === '-m' && launch.args[1] === 'lsp_agent';
  if (reason === 'missing') {
    if (usesPython) {
      return (
        `lsp-agent: the Python "${launch.command}" (lspAgent.server.pythonPath) was not found. ` +
        'Set "lspAgent.server.pythonPath" to a Python with lsp-agent installed, or clear it to use the "lsp-agent" command.'
      );
    }
    return (
      `lsp-agent: the server command "${launch.command}" was not found. ` +
      `Install it with \`${INSTALL_HINT}\`, or set "lspAgent.server.command" (or "lspAgent.server.pythonPath") in the settings.`
    );
  }
  const text = stderr.join('\n');
  const last = stderr.filter((l) => l.trim()).slice(-1)[0]?.trim();
  if (/No module named '?lsp_agent/.test(text)) {
    return (
      `lsp-agent: "${launch.command}" has no lsp_agent module. ` +
      `Run \`${launch.command} -m ${INSTALL_HINT}\`, or set "lspAgent.server.pythonPath" to a Python that has it.`
    );
  }
  return (
    `lsp-agent: the server ("${shown}") exited at start${last ? `: ${last}` : ''}. ` +
    `Check the "lsp-agent" output; reinstall with \`${INSTALL_HINT}\`, or fix "lspAgent.server.command" / "lspAgent.server.args".`
  );
}

/**
 * The server's stderr as lines, the last `keep` of them. A server that dies at start often
 * closes the pipe after the client has already seen the broken connection: `ended` lets the
 * failure message wait for its last words.
 */
export class StderrLines {
  readonly lines: string[] = [];
  readonly ended: Promise<void>;
  private rest = '';
  private finish: () => void = () => undefined;

  constructor(
    private readonly keep: number,
    private readonly onLine: (line: string) => void = () => undefined,
  ) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  /** Before any server ran: no lines, already ended. */
  static none(): StderrLines {
    const lines = new StderrLines(0);
    lines.end();
    return lines;
  }

  push(data: Buffer | string): void {
    const lines = (this.rest + String(data)).split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    lines.forEach((line) => this.add(line));
  }

  end(): void {
    if (this.rest) {
      this.add(this.rest);
      this.rest = '';
    }
    this.finish();
  }

  /** The lines, once the stream ended or `waitMs` passed, whichever is first. */
  async settled(waitMs: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return this.lines;
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.keep) {
      this.lines.shift();
    }
    this.onLine(line);
  }
}
