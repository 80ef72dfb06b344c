#!/usr/bin/env node
// End-to-end in real VS Code: code-server 4.100.3 (VS Code 1.100.3, the last release on
// Node 20) with the packaged .vsix, driven in headless Chromium by playwright-core.
//
//   npm run e2e:code-server        (from editors/vscode)
//
// It runs "Agent: Ask…" from the command palette, then checks that the streamed answer shows in
// the transcript webview, answers the permission notification with "Allow once", and checks
// that the agent's edit lands in the open editor. Not part of the
// default test run: the first run installs code-server (about a minute, native modules) and it
// needs Debian's chromium, ripgrep and libkrb5-dev.
//
// Then it switches the session to review mode "hunks" (Agent: Set Review Mode…), lets the agent
// edit a file with two hunks, accepts one and rejects the other with the diff editor's
// CodeLenses, and checks that only the accepted one lands; the review view's screenshot is saved
// as a test artifact (review.png in the artifacts folder below).
//
// Then it switches review back to auto and runs an inline edit ("Agent: Edit Selection…") on
// lines 5-6 of inline.py: the scripted model first tries an edit_file outside those lines (the
// server refuses it, which the model's next request shows), then one inside them, allowed in
// the permission notification; only the in-range change lands (inline-edit.png).
//
// Then it opens bad.json (a syntax error, from VS Code's own JSON language server), selects
// lines 1-2 of inline.py and asks "explain @selection and @problems briefly", both mentions
// taken from the Ask box's @ completion; the model's request must carry the selected text as
// inline.py:1-2 and bad.json's diagnostic. Then /compact (completed from /comp): the model
// summarizes and the transcript shows "Context compacted: older turns summarized, …"
// (compaction.png). Last, a long run (50 read_file calls in 10 rounds, then a ~4,000-token
// answer, about 5,000 tokens in all) prints the extension host's event-loop delay p50/p99/max,
// which the extension writes to $LSP_AGENT_LOOP_DELAY at the end of each prompt run (no
// assertion on it).
//
// Environment: LSP_AGENT_COMMAND (default: the repo's .venv/bin/lsp-agent), LSP_AGENT_PYTHON,
// CHROMIUM (default /usr/bin/chromium), E2E_KEEP=1 keeps the temp dir, E2E_SCREENSHOT=path.
// Screenshots go to LSP_AGENT_ARTIFACTS/vscode (default: test-artifacts/vscode in the repo):
// context-meter.png (the status bar item after the edit), review.png, inline-edit.png and
// compaction.png on every run,
// e2e-failure.png and e2e-failure-transcript.png when a step fails.

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const extension = join(here, '..');
const repo = join(extension, '..', '..');
const e2e = join(extension, '.e2e');
const CODE_SERVER = '4.100.3';
const PLAYWRIGHT = '1.52.0';
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const artifacts = join(process.env.LSP_AGENT_ARTIFACTS || join(repo, 'test-artifacts'), 'vscode');
const python = process.env.LSP_AGENT_PYTHON || join(repo, '.venv', 'bin', 'python');
const lspAgent = process.env.LSP_AGENT_COMMAND || join(repo, '.venv', 'bin', 'lsp-agent');
const ANSWER = 'Hello from the end-to-end model.';
const systemPython = process.env.E2E_PYTHON_WITHOUT_LSP_AGENT || '/usr/bin/python3';
const TWO = 'def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n';
const TWO_FIXED = 'def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n';
const INLINE = 'def one():\n    return 1\n\n\ndef two():\n    return 2\n';
const INLINE_DONE = 'Inline edit: two now returns 20.';
const BAD_JSON = '{"a": 1 "b": 2}\n';
const MENTIONED = 'The selection defines one; bad.json lacks a comma.';
const SUMMARY = 'The user fixed add, reviewed two.py and edited inline.py.';
// A long run for the event-loop delay figures: 10 rounds of 5 read_file calls with ~100 tokens
// of text each, then a ~4,000-token answer, one token (4 characters) a chunk.
const FILES = ['app.py', 'two.py', 'inline.py', 'bad.json'];
const words = (n, tag) => Array.from({ length: n }, (_, i) => `${tag}${String(i).padStart(3, '0')} `).join('');
const LONG_END = 'End of the long answer.';
const LONG_RUN = [
  ...Array.from({ length: 10 }, (_, round) => ({
    builder: 'tool_call_reply',
    text: words(50, `r${round}w`),
    chunk_size: 4,
    delay_s: 0.002,
    calls: Array.from({ length: 5 }, (_, i) => ['read_file', { path: FILES[(round + i) % FILES.length] }]),
  })),
  { builder: 'text_reply', text: `${words(2000, 'long')}${LONG_END}`, chunk_size: 4, delay_s: 0.002 },
];
const groups = [];

function log(message) {
  console.log(`[e2e] ${message}`);
}

function fail(message) {
  throw new Error(message);
}

function install() {
  const bin = join(e2e, 'node_modules', '.bin', 'code-server');
  if (existsSync(bin) && existsSync(join(e2e, 'node_modules', 'playwright-core'))) {
    return bin;
  }
  // Any rg on PATH will do: Debian's, or the one the ripgrep PyPI package puts in the venv.
  let rg;
  try {
    rg = realpathSync(execFileSync('which', ['rg'], { encoding: 'utf8' }).trim());
  } catch {
    fail('rg is missing: pip install ripgrep, or apt-get install ripgrep chromium libkrb5-dev');
  }
  log(`installing code-server@${CODE_SERVER} and playwright-core@${PLAYWRIGHT} into .e2e/ (about a minute)`);
  // @vscode/ripgrep downloads rg at install time, which fails offline: seed its cache with Debian's.
  const cache = join(tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(cache, { recursive: true });
  const staged = mkdtempSync(join(tmpdir(), 'rg-'));
  copyFileSync(rg, join(staged, 'rg'));
  chmodSync(join(staged, 'rg'), 0o755);
  execFileSync('tar', ['czf', join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', staged, 'rg']);
  rmSync(staged, { recursive: true, force: true });
  mkdirSync(e2e, { recursive: true });
  if (!existsSync(join(e2e, 'package.json'))) {
    writeFileSync(join(e2e, 'package.json'), '{"private": true}\n');
  }
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--unsafe-perm', '--foreground-scripts', `code-server@${CODE_SERVER}`, `playwright-core@${PLAYWRIGHT}`],
    { cwd: e2e, stdio: 'inherit', env: { ...process.env, npm_config_yes: 'true' } },
  );
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Spawn in its own process group, killed as a whole at the end. */
function start(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true });
  groups.push(child);
  return child;
}

function killAll() {
  for (const child of groups) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function firstLine(child, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 30_000);
    child.stdout.on('data', (data) => {
      out += String(data);
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0].trim());
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

/** The extension's "lsp-agent" output channel of every extension host, oldest first. */
function extensionLogs(userData) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.name === 'lsp-agent.log') {
        found.push(path);
      }
    }
  };
  try {
    walk(join(userData, 'logs'));
  } catch {
    return '(no logs)';
  }
  return found
    .sort()
    .map((path) => `--- ${path}\n${readFileSync(path, 'utf8').slice(-3000)}`)
    .join('\n');
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  if (!existsSync(chromium)) {
    fail(`no Chromium at ${chromium}: apt-get install chromium (or set CHROMIUM)`);
  }
  if (!existsSync(lspAgent)) {
    fail(`no lsp-agent at ${lspAgent}: pip install -e . in the repo (or set LSP_AGENT_COMMAND)`);
  }
  const codeServer = install();
  log('packaging the extension');
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: extension, stdio: 'inherit' });
  const vsix = join(extension, 'lsp-agent.vsix');

  const tmp = mkdtempSync(join(tmpdir(), 'lsp-agent-e2e-'));
  try {
    const ws = join(tmp, 'ws');
    const userData = join(tmp, 'user-data');
    const extensions = join(tmp, 'extensions');
    mkdirSync(join(ws, '.vscode'), { recursive: true });
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(ws, 'app.py'), 'def add(a, b):\n    return a - b\n');
    writeFileSync(join(ws, 'two.py'), TWO);
    writeFileSync(join(ws, 'inline.py'), INLINE);
    writeFileSync(join(ws, 'bad.json'), BAD_JSON);

    // The fake model: an answer, then an edit and a closing answer; the two-hunk edit; the
    // inline edit (a refused edit outside the selected lines, one inside them, an answer); the
    // answer to @selection and @problems; the summary /compact asks for.
    const script = join(tmp, 'script.json');
    const modelLog = join(tmp, 'model-requests.jsonl');
    writeFileSync(
      script,
      JSON.stringify([
        { builder: 'text_reply', text: ANSWER, chunk_size: 4, delay_s: 0.02 },
        { builder: 'tool_call_reply', calls: [['edit_file', { path: 'app.py', old_string: 'a - b', new_string: 'a + b' }]] },
        { builder: 'text_reply', text: 'Fixed: add now adds.' },
        { builder: 'tool_call_reply', calls: [['write_file', { path: 'two.py', content: TWO_FIXED }]] },
        { builder: 'text_reply', text: 'Reviewed: only add changed.' },
        { builder: 'tool_call_reply', calls: [['edit_file', { path: 'inline.py', old_string: 'return 1', new_string: 'return 10' }]] },
        { builder: 'tool_call_reply', calls: [['edit_file', { path: 'inline.py', old_string: 'return 2', new_string: 'return 20' }]] },
        { builder: 'text_reply', text: INLINE_DONE },
        { builder: 'text_reply', text: MENTIONED },
        { builder: 'text_reply', text: SUMMARY },
        ...LONG_RUN,
      ]),
    );
    const model = start(python, ['-m', 'tests.fakes.model_server', '--script', script, '--log', modelLog], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    const modelPort = await firstLine(model, 'the fake model server');
    log(`fake model on port ${modelPort}`);

    const settingsFile = join(userData, 'User', 'settings.json');
    const settings = {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'extensions.autoUpdate': false,
        'lspAgent.server.command': lspAgent,
        'lspAgent.model.baseUrl': `http://127.0.0.1:${modelPort}/v1`,
        'lspAgent.model.name': 'fake-model',
        'lspAgent.model.contextWindow': 32000,
        'lspAgent.permissions.mode': 'ask',
    };
    writeFileSync(settingsFile, JSON.stringify(settings));

    log('installing the .vsix into code-server');
    execFileSync(codeServer, ['--extensions-dir', extensions, '--user-data-dir', userData, '--install-extension', vsix], {
      stdio: 'inherit',
    });

    const port = await freePort();
    // the extension writes its host's event-loop delay there at the end of each prompt run
    const loopDelay = join(tmp, 'loop-delay.json');
    const env = { ...process.env, LSP_AGENT_STATE_DIR: join(tmp, 'state'), LSP_AGENT_LOOP_DELAY: loopDelay };
    for (const key of Object.keys(env)) {
      if (key.startsWith('OPENAI_') || key.startsWith('VSCODE_')) {
        delete env[key];
      }
    }
    const server = start(
      codeServer,
      ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--extensions-dir', extensions, '--user-data-dir', userData, '--disable-telemetry', '--disable-workspace-trust', ws],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let serverLog = '';
    server.stdout.on('data', (d) => (serverLog += String(d)));
    server.stderr.on('data', (d) => (serverLog += String(d)));
    await waitFor('code-server', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    });
    log(`code-server on port ${port}`);

    const require = createRequire(join(e2e, 'package.json'));
    const { chromium: browserType } = require('playwright-core');
    const browser = await browserType.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      log('workbench loaded');

      // Open app.py (quick open), so the edit goes to an open buffer through applyEdit.
      await page.keyboard.press('Control+P');
      await page.keyboard.type('app.py');
      await page.waitForSelector('.quick-input-list .monaco-list-row');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.monaco-editor .view-lines');
      // Monaco renders spaces as no-break spaces.
      const editorText = async () => ((await page.textContent('.monaco-editor .view-lines')) ?? '').replace(/\u00a0/g, ' ');
      await waitFor('app.py in the editor', async () => (await editorText()).includes('return a - b'));

      // Wait until the extension is up (its status bar item).
      await waitFor('the lsp-agent status bar item', async () => {
        const items = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || ''));
        return items.some((t) => t.includes('Agent'));
      });

      async function palette(command) {
        await page.keyboard.press('F1');
        await page.waitForSelector('.quick-input-widget input');
        await page.keyboard.type(command);
        await waitFor(`the ${command} command`, async () => {
          const rows = await page.$$eval('.quick-input-list .monaco-list-row', (els) => els.map((e) => e.textContent || ''));
          return rows.some((t) => t.includes(command));
        });
        await page.keyboard.press('Enter');
      }

      async function openAsk() {
        await palette('Agent: Ask');
        await waitFor('the prompt input box', async () => {
          const title = await page.textContent('.quick-input-widget .quick-input-title').catch(() => '');
          return title && title.includes('Ask the agent');
        });
      }

      async function ask(prompt) {
        await openAsk();
        await page.keyboard.type(prompt);
        await page.keyboard.press('Enter');
      }

      async function transcriptText() {
        const texts = await Promise.all(
          page.frames().map((f) => f.evaluate(() => document.getElementById('transcript')?.textContent ?? '').catch(() => '')),
        );
        return texts.join('\n');
      }

      await ask('say hello');
      await waitFor('the streamed answer in the transcript', async () => (await transcriptText()).includes(ANSWER));
      log('the streamed answer is in the transcript');

      await ask('fix add');
      // The permission question: a notification with Allow once / Always / Reject / Show diff.
      const allow = await waitFor('the permission notification', async () => {
        const toasts = await page.$$('.notification-toast');
        for (const toast of toasts) {
          if (((await toast.textContent()) ?? '').includes('lsp-agent wants to: Edit app.py')) {
            return toast.$('.monaco-button:has-text("Allow once")');
          }
        }
        return undefined;
      });
      await allow.click();
      log('allowed the edit in the permission notification');
      await waitFor('the edit in the editor', async () => (await editorText()).includes('return a + b'));
      await waitFor('the closing answer', async () => (await transcriptText()).includes('Fixed: add now adds.'));
      const transcript = await transcriptText();
      if (!transcript.includes('Edited app.py')) {
        fail(`the transcript has no diff entry:\n${transcript}`);
      }
      log('the edit landed in the editor and shows as a diff in the transcript');
      // The context meter in the status bar: "Agent · ask · N% context · $…", as a screenshot.
      const meter = await waitFor('the context meter in the status bar', async () => {
        for (const item of await page.$$('.statusbar-item')) {
          if (/Agent.*% context/.test((await item.textContent()) ?? '')) {
            return item;
          }
        }
        return undefined;
      });
      mkdirSync(artifacts, { recursive: true });
      await meter.screenshot({ path: join(artifacts, 'context-meter.png') });
      log(`the context meter shows in the status bar: ${join(artifacts, 'context-meter.png')}`);
      // Its button opens VS Code's diff editor on the virtual before/after documents.
      for (const frame of page.frames()) {
        const button = await frame.$('button.diff').catch(() => null);
        if (button) {
          await button.click();
          break;
        }
      }
      await waitFor('the diff editor', async () => {
        const tabs = await page.$$eval('.tabs-container .tab', (els) => els.map((e) => e.getAttribute('aria-label') || e.textContent || ''));
        return tabs.some((t) => t.includes('edit by the agent'));
      });
      await page.waitForSelector('.monaco-diff-editor');
      log('the diff opened in the diff editor');

      // A window reload: the transcript comes back through agent/session/load.
      await page.reload();
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      await waitFor('the transcript after a reload', async () => {
        const text = await transcriptText();
        return text.includes(ANSWER) && text.includes('Fixed: add now adds.');
      });
      log('the transcript survived a window reload');

      // Review per hunk: only what the user accepts is written.
      await palette('Agent: Set Review Mode');
      await waitFor('the review mode picker', async () => {
        const title = await page.textContent('.quick-input-widget .quick-input-title').catch(() => '');
        return title && title.includes('Review mode for this session');
      });
      await page.keyboard.type('hunks');
      await page.keyboard.press('Enter');
      await waitFor('the review mode in the status bar', async () => {
        const items = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || ''));
        return items.some((t) => t.includes('review hunks'));
      });
      await ask('fix both functions in two.py');
      await waitFor('the review diff editor', async () => {
        const tabs = await page.$$eval('.tabs-container .tab', (els) => els.map((e) => e.getAttribute('aria-label') || e.textContent || ''));
        return tabs.some((t) => t.includes('Review: two.py'));
      });
      const lens = (title) => page.$(`.monaco-diff-editor .codelens-decoration a:has-text("${title}")`);
      await waitFor('the Accept/Reject CodeLenses', async () => (await lens('Accept hunk 2')) !== null);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'review.png') });
      log(`the review view (screenshot: ${join(artifacts, 'review.png')})`);
      // a locator, not the handle: the CodeLenses may re-render between finding one and the click
      const clickLens = (title) => page.locator(`.monaco-diff-editor .codelens-decoration a:has-text("${title}")`).first().click();
      await clickLens('Accept hunk 1');
      await waitFor('hunk 1 accepted', async () => (await lens('Accepted hunk 1')) !== null);
      // hunk 2's Reject is the only one left
      await clickLens('Reject');
      await waitFor('the closing answer after the review', async () => (await transcriptText()).includes('Reviewed: only add changed.'));
      const reviewed = readFileSync(join(ws, 'two.py'), 'utf8');
      if (reviewed !== TWO.replace('a - b', 'a + b')) {
        fail(`two.py after accepting hunk 1 and rejecting hunk 2:\n${reviewed}`);
      }
      const tabsAfter = await page.$$eval('.tabs-container .tab', (els) => els.map((e) => e.getAttribute('aria-label') || e.textContent || ''));
      if (tabsAfter.some((t) => t.includes('Review: two.py'))) {
        fail('the review tab is still open after every hunk was decided');
      }
      log('accepted one hunk and rejected the other: only the accepted one landed');

      // An inline edit: back to review auto, select lines 5-6 of inline.py, Agent: Edit Selection….
      await palette('Agent: Set Review Mode');
      await waitFor('the review mode picker', async () => {
        const title = await page.textContent('.quick-input-widget .quick-input-title').catch(() => '');
        return title && title.includes('Review mode for this session');
      });
      await page.keyboard.type('auto');
      await page.keyboard.press('Enter');
      await waitFor('review mode auto', async () => {
        const toasts = await page.$$eval('.notification-toast', (els) => els.map((e) => e.textContent || ''));
        const items = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || ''));
        return toasts.some((t) => t.includes('now reviewed: auto')) && !items.some((t) => t.includes('review hunks'));
      });
      await page.keyboard.press('Control+P');
      await page.keyboard.type('inline.py');
      await waitFor('inline.py in quick open', async () => {
        const rows = await page.$$eval('.quick-input-list .monaco-list-row', (els) => els.map((e) => e.textContent || ''));
        return rows.some((t) => t.includes('inline.py'));
      });
      await page.keyboard.press('Enter');
      // the text of the editor showing inline.py (Monaco renders spaces as no-break spaces)
      const inlineText = async () => {
        const texts = await page.$$eval('.monaco-editor .view-lines', (els) => els.map((e) => (e.textContent || '').replace(/\u00a0/g, ' ')));
        return texts.find((t) => t.includes('def one():')) ?? '';
      };
      await waitFor('inline.py in the editor', async () => (await inlineText()).includes('return 2'));
      await page.keyboard.press('Control+G');
      await waitFor('the go to line input', async () => {
        const value = await page.inputValue('.quick-input-widget input').catch(() => '');
        return value.startsWith(':');
      });
      await page.keyboard.type('5');
      await page.keyboard.press('Enter');
      await waitFor('the cursor on line 5', async () => {
        const items = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || ''));
        return items.some((t) => /Ln 5, Col 1\b/.test(t));
      });
      await page.keyboard.press('Shift+ArrowDown');
      await page.keyboard.press('Shift+End');
      await waitFor('lines 5-6 selected', async () => {
        const items = await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || ''));
        return items.some((t) => /Ln 6, Col 13 \(\d+ selected\)/.test(t));
      });
      await palette('Agent: Edit Selection');
      await waitFor('the inline edit input box', async () => {
        const title = await page.textContent('.quick-input-widget .quick-input-title').catch(() => '');
        return title && title.includes('Agent: Edit inline.py, lines 5-6');
      });
      await page.keyboard.type('make two return 20');
      await page.keyboard.press('Enter');
      const allowInline = await waitFor('the inline edit permission notification', async () => {
        for (const toast of await page.$$('.notification-toast')) {
          if (((await toast.textContent()) ?? '').includes('lsp-agent wants to: Edit inline.py')) {
            return toast.$('.monaco-button:has-text("Allow once")');
          }
        }
        return undefined;
      });
      await allowInline.click();
      await waitFor('the inline edit in the editor', async () => (await inlineText()).includes('return 20'));
      await waitFor('the answer to the inline edit', async () => (await transcriptText()).includes(INLINE_DONE));
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'inline-edit.png') });
      log(`the inline edit (screenshot: ${join(artifacts, 'inline-edit.png')})`);
      const requests = readFileSync(modelLog, 'utf8');
      if (!requests.includes('This is an inline edit of lines 5-6 of inline.py')) {
        fail('the inline edit prompt did not name lines 5-6 of inline.py');
      }
      if (!requests.includes('This edit also changes line 2, outside that range: not done.')) {
        fail('the model was not told its edit outside the selected lines was refused');
      }
      // The edit is in the open buffer, unsaved: save it, then the disk has only the in-range change.
      // (the notification had the focus: click into the editor first)
      for (const lines of await page.$$('.monaco-editor .view-lines')) {
        if (((await lines.textContent()) ?? '').includes('def one():')) {
          await lines.click();
          break;
        }
      }
      await page.keyboard.press('Control+S');
      const expected = INLINE.replace('return 2', 'return 20');
      await waitFor('inline.py saved', async () => readFileSync(join(ws, 'inline.py'), 'utf8') === expected, 30_000).catch(() =>
        fail(`inline.py after the inline edit:\n${readFileSync(join(ws, 'inline.py'), 'utf8')}`),
      );
      log('the inline edit changed only the selected lines; the edit outside them was refused');

      // @problems and @selection in the Ask box: a JSON file with a syntax error (VS Code's own
      // JSON language server reports it), then lines 1-2 of inline.py selected; the model gets
      // the diagnostic and the selected text with its file and lines.
      const statusItems = () => page.$$eval('.statusbar-item', (els) => els.map((e) => `${e.textContent || ''} ${e.getAttribute('aria-label') || ''} ${e.querySelector('[aria-label]')?.getAttribute('aria-label') || ''}`));
      const quickOpen = async (name) => {
        await page.keyboard.press('Control+P');
        await page.keyboard.type(name);
        // the typed name, and the highlighted row is that file (not a recently opened one)
        await waitFor(`${name} highlighted in quick open`, async () => {
          const value = await page.inputValue('.quick-input-widget input').catch(() => '');
          const focused = await page.textContent('.quick-input-list .monaco-list-row.focused').catch(() => '');
          return value === name && (focused ?? '').includes(name);
        });
        await page.keyboard.press('Enter');
      };
      await quickOpen('bad.json');
      await waitFor('the JSON syntax error in the Problems status item', async () => {
        const problems = await page.$eval('[id="status.problems"]', (e) => `${e.textContent || ''} ${e.querySelector('[aria-label]')?.getAttribute('aria-label') || ''} ${e.getAttribute('aria-label') || ''}`).catch(() => '');
        return /Errors?: [1-9]|[1-9] errors?/i.test(problems);
      });
      await page.locator('.tabs-container .tab:has-text("inline.py")').first().click();
      await waitFor('inline.py in the editor again', async () => (await inlineText()).includes('return 20'));
      await page.keyboard.press('Control+G');
      await waitFor('the go to line input', async () => {
        const value = await page.inputValue('.quick-input-widget input').catch(() => '');
        return value.startsWith(':');
      });
      await page.keyboard.type('1');
      await page.keyboard.press('Enter');
      await waitFor('the cursor on line 1', async () => (await statusItems()).some((t) => /Ln 1, Col 1\b/.test(t)));
      await page.keyboard.press('Shift+ArrowDown');
      await page.keyboard.press('Shift+End');
      await waitFor('lines 1-2 selected', async () => (await statusItems()).some((t) => /Ln 2, Col 13 \(\d+ selected\)/.test(t)));
      await openAsk();
      const askValue = () => page.inputValue('.quick-input-widget input').catch(() => '');
      // Enter takes the highlighted completion while a mention or command is being typed.
      const takeCompletion = async (label) => {
        await waitFor(`the ${label} completion highlighted`, async () => {
          const focused = await page.textContent('.quick-input-list .monaco-list-row.focused').catch(() => '');
          return (focused ?? '').includes(label);
        });
        await page.keyboard.press('Enter');
      };
      // @ completes: take @selection from the list, then @problems
      await page.keyboard.type('explain @sel');
      await takeCompletion('@selection');
      await waitFor('@selection completed', async () => (await askValue()) === 'explain @selection ');
      await page.keyboard.type('and @prob');
      await takeCompletion('@problems');
      await waitFor('@problems completed', async () => (await askValue()) === 'explain @selection and @problems ');
      await page.keyboard.type('briefly');
      await page.keyboard.press('Enter');
      await waitFor('the answer about the selection', async () => (await transcriptText()).includes(MENTIONED));
      const userText = (body) => {
        const users = (body?.messages ?? []).filter((m) => m.role === 'user');
        const content = users[users.length - 1]?.content ?? '';
        return typeof content === 'string' ? content : content.map((part) => part.text ?? '').join('');
      };
      const prompts = readFileSync(modelLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).body)
        .map((body) => userText(typeof body === 'string' ? JSON.parse(body) : body));
      const mentionPrompt = prompts.find((t) => t.includes('explain @selection and @problems briefly'));
      if (!mentionPrompt) {
        fail(`no model request has the @selection prompt; the last one:\n${prompts[prompts.length - 1]}`);
      }
      if (!mentionPrompt.includes("inline.py:1-2 (the user's selection):\n```\ndef one():\n    return 1\n```")) {
        fail(`the model did not get lines 1-2 of inline.py as the selection:\n${mentionPrompt}`);
      }
      if (!/Problems \(the editor's diagnostics: [1-9]/.test(mentionPrompt) || !mentionPrompt.includes('bad.json:')) {
        fail(`the model did not get bad.json's diagnostic for @problems:\n${mentionPrompt}`);
      }
      log("@selection and @problems: the model got inline.py's lines 1-2 and bad.json's diagnostic");

      // /compact in the Ask box: the model summarizes, and the transcript shows the compaction.
      await openAsk();
      await page.keyboard.type('/comp');
      await takeCompletion('/compact');
      await waitFor('/compact completed', async () => (await askValue()) === '/compact ');
      await page.keyboard.press('Enter');
      await waitFor('the compaction line in the transcript', async () => /Context compacted: older turns summarized, [\d.k]+ → [\d.k]+ tokens/.test(await transcriptText()));
      const lastRequest = readFileSync(modelLog, 'utf8').trim().split('\n').pop() ?? '';
      if (!lastRequest.includes('You compact the history of a coding session')) {
        fail('the last model request was not the summary /compact asks for');
      }
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'compaction.png') });
      log(`/compact: the transcript shows the compaction line (screenshot: ${join(artifacts, 'compaction.png')})`);

      // The extension host's event-loop delay while a long run streams (printed, not asserted):
      // the /compact run wrote its figures when it ended; the long run's replace them.
      await waitFor("the /compact run's loop delay figures", async () => existsSync(loopDelay));
      rmSync(loopDelay);
      await ask('a long answer, please');
      await waitFor('the end of the long answer', async () => (await transcriptText()).includes(LONG_END), 180_000);
      const delay = JSON.parse(await waitFor('the loop delay figures', async () => existsSync(loopDelay) && readFileSync(loopDelay, 'utf8')));
      log(`extension host loop delay p50/p99/max: ${delay.p50}/${delay.p99}/${delay.max} ms (${delay.samples} samples; a ~5,000-token answer, 50 tool calls)`);

      // A Python without lsp_agent: the server exits at start, and the extension says what to do.
      settings['lspAgent.server.pythonPath'] = systemPython;
      writeFileSync(settingsFile, JSON.stringify(settings));
      await page.reload();
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      await waitFor('the start failure message', async () => {
        const toasts = await page.$$eval('.notification-toast', (els) => els.map((e) => e.textContent || ''));
        return toasts.some((t) => t.includes('has no lsp_agent module') && t.includes('Open Settings'));
      });
      log('a server that exits at start is explained, with a button to the settings');
      if (process.env.E2E_SCREENSHOT) {
        await page.screenshot({ path: process.env.E2E_SCREENSHOT });
      }
      if (serverLog.includes('unknown message id')) {
        fail('the server saw a response to an unknown request id (see the code-server log)');
      }
      log('PASS');
    } catch (error) {
      mkdirSync(artifacts, { recursive: true });
      const shot = join(artifacts, 'e2e-failure.png');
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      // the transcript view on its own, where the failure is most often visible
      const view = await page.$('.pane-body:has(iframe.webview)').catch(() => null);
      await view?.screenshot({ path: join(artifacts, 'e2e-failure-transcript.png') }).catch(() => undefined);
      console.error(`[e2e] screenshot: ${shot}\n[e2e] code-server log (tail):\n${serverLog.slice(-4000)}`);
      console.error(`[e2e] the extension's output (each extension host):\n${extensionLogs(userData)}`);
      throw error;
    } finally {
      await browser.close();
    }
  } finally {
    killAll();
    if (!process.env.E2E_KEEP) {
      rmSync(tmp, { recursive: true, force: true });
    } else {
      log(`kept ${tmp}`);
    }
  }
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

main().then(
  () => process.exit(0),
  (error) => {
    killAll();
    console.error(`[e2e] FAIL: ${error.message}`);
    process.exit(1);
  },
);

