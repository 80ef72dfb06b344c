import { describe, expect, it } from 'vitest';
import type { PromptResult, SessionUpdate } from '../../src/protocol';
import {
  KIND_ICON,
  type ToolEntry,
  TranscriptModel,
  formatCost,
  formatTokens,
  sessionCost,
  statusIcon,
  toolIcon,
} from '../../src/transcript/model';
import { diffStats, renderTranscript, usageLine } from '../../src/transcript/render';

const S = 'session-1';

/** Feed updates with gapless seq numbers, starting at `from`. */
function feed(model: TranscriptModel, updates: SessionUpdate[], from = 0): void {
  updates.forEach((update, i) => model.apply({ sessionId: S, seq: from + i, update }));
}

const text = (t: string): SessionUpdate => ({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: t } });

function result(over: Partial<PromptResult> = {}): PromptResult {
  return {
    stopReason: 'end_turn',
    usage: { totalTokens: 1500 },
    turns: 1,
    toolCalls: 0,
    editedUris: [],
    ...over,
  };
}

describe('text streaming', () => {
  it('appends agent chunks to one message until something else comes', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'review app.py' } },
      text('The add '),
      text('function '),
      text('subtracts.'),
    ]);
    expect(m.state.entries).toEqual([
      { type: 'user', text: 'review app.py' },
      { type: 'agent', text: 'The add function subtracts.' },
    ]);
    expect(m.agentText()).toBe('The add function subtracts.');
  });

  it('folds the editor context the server appends to a prompt', () => {
    const m = new TranscriptModel(S);
    feed(m, [{ sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'fix it\n\nEditor context: the user is in a.py.\nSelected lines 1-2' } }]);
    const html = renderTranscript(m.state);
    expect(html).toContain('<div class="text">fix it<details class="context" data-key="context:0"><summary>Editor context: the user is in a.py.</summary>');
    expect(m.state.title).toBe('fix it');
  });

  it('keeps thoughts apart from the answer', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'hmm, ' } },
      { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'a bug' } },
      text('Found it.'),
    ]);
    expect(m.state.entries.map((e) => e.type)).toEqual(['thought', 'agent']);
    expect(m.state.entries[0]).toMatchObject({ text: 'hmm, a bug' });
  });

  it('renders markdown and never interprets raw HTML from the model', () => {
    const m = new TranscriptModel(S);
    feed(m, [text('**bold** and `code`\n\n<script>alert(1)</script><img src=x onerror=alert(1)>')]);
    const html = renderTranscript(m.state);
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<code>code</code>');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;');
  });

  it('ignores other sessions, duplicates, and counts gaps', () => {
    const m = new TranscriptModel(S);
    expect(m.apply({ sessionId: 'other', seq: 0, update: text('x') })).toBe(false);
    expect(m.apply({ sessionId: S, seq: 0, update: text('a') })).toBe(true);
    expect(m.apply({ sessionId: S, seq: 0, update: text('a') })).toBe(false); // duplicate
    expect(m.apply({ sessionId: S, seq: 3, update: text('b') })).toBe(true); // 1 and 2 lost
    expect(m.state.gaps).toBe(1);
    expect(m.state.lastSeq).toBe(3);
    expect(m.state.entries.some((e) => e.type === 'note' && /2 update\(s\) were lost/.test(e.text))).toBe(true);
  });

  it('reset forgets everything so a replay starts clean', () => {
    const m = new TranscriptModel(S);
    feed(m, [text('a'), { sessionUpdate: 'plan', entries: [{ content: 'x' }] }], 10);
    const before = m.revision;
    m.reset();
    expect(m.state.entries).toEqual([]);
    expect(m.state.plan).toEqual([]);
    expect(m.state.lastSeq).toBeNull();
    expect(m.revision).toBeGreaterThan(before);
    feed(m, [text('b')], 0); // a new daemon's seq starts again at 0
    expect(m.agentText()).toBe('b');
  });
});

describe('tool calls', () => {
  it('moves through pending, in progress and completed, appending streamed output', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'tool_call', toolCallId: 'c1', title: 'Run `ls`', kind: 'execute', status: 'pending', rawInput: { command: 'ls' } },
    ]);
    const tool = m.tool('c1')!;
    expect(tool.status).toBe('pending');
    feed(
      m,
      [
        { sessionUpdate: 'tool_call_update', toolCallId: 'c1', status: 'in_progress' },
        { sessionUpdate: 'tool_call_update', toolCallId: 'c1', content: [{ type: 'content', content: { type: 'text', text: 'a.py\n' } }] },
        { sessionUpdate: 'tool_call_update', toolCallId: 'c1', content: [{ type: 'content', content: { type: 'text', text: 'b.py\n' } }] },
      ],
      1,
    );
    expect(tool.status).toBe('in_progress');
    expect(tool.output).toBe('a.py\nb.py\n');
    feed(m, [{ sessionUpdate: 'tool_call_update', toolCallId: 'c1', status: 'completed', rawOutput: { status: 'completed' } }], 4);
    expect(tool.status).toBe('completed');
    expect(tool.output).toBe('a.py\nb.py\n'); // a final update without content keeps the output
    const html = renderTranscript(m.state);
    expect(html).toContain('codicon-terminal');
    expect(html).toContain('codicon-pass');
    expect(html).toContain('data-key="tool:c1"');
    expect(html).toContain('<pre class="output">a.py\nb.py\n</pre>');
  });

  it('shows a failed call as failed, and its output escaped', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'tool_call', toolCallId: 'c2', title: 'Read <x>', kind: 'read' },
      {
        sessionUpdate: 'tool_call_update',
        toolCallId: 'c2',
        status: 'failed',
        content: [{ type: 'content', content: { type: 'text', text: 'no such file: <x>' } }],
      },
    ]);
    const html = renderTranscript(m.state);
    expect(m.tool('c2')!.status).toBe('failed');
    expect(html).toContain('codicon-error');
    expect(html).toContain('Read &lt;x&gt;');
    expect(html).toContain('no such file: &lt;x&gt;');
  });

  it('collects diffs of edits and offers them as buttons', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'tool_call', toolCallId: 'e1', title: 'Edit app.py', kind: 'edit', locations: [{ path: '/ws/app.py', line: 2 }] },
      {
        sessionUpdate: 'tool_call_update',
        toolCallId: 'e1',
        status: 'completed',
        content: [{ type: 'diff', path: '/ws/app.py', oldText: 'a\nreturn a - b\n', newText: 'a\nreturn a + b\n' }],
      },
      { sessionUpdate: 'tool_call', toolCallId: 'e2', title: 'Write new.py', kind: 'edit' },
      { sessionUpdate: 'tool_call_update', toolCallId: 'e2', status: 'completed', content: [{ type: 'diff', path: '/ws/new.py', oldText: null, newText: 'x = 1\n' }] },
    ]);
    expect(m.tool('e1')!.diffs).toHaveLength(1);
    expect(m.tool('e1')!.output).toBe('');
    const html = renderTranscript(m.state);
    expect(html).toContain('codicon-edit');
    expect(html).toMatch(/<button class="diff" data-tool="e1" data-index="0"[^>]*>.*Edited app\.py/);
    expect(html).toMatch(/data-tool="e2".*Created new\.py/);
    expect(html).toContain('data-path="/ws/app.py" data-line="2"');
    expect(diffStats({ oldText: 'a\nreturn a - b\n', newText: 'a\nreturn a + b\n' })).toEqual({ added: 1, removed: 1 });
    expect(diffStats({ oldText: null, newText: 'x = 1\n' })).toEqual({ added: 2, removed: 0 });
  });

  it('shows an update for a call it never saw start', () => {
    const m = new TranscriptModel(S);
    feed(m, [{ sessionUpdate: 'tool_call_update', toolCallId: 'lost', status: 'completed' }]);
    expect(m.state.entries).toHaveLength(1);
    expect((m.state.entries[0] as ToolEntry).status).toBe('completed');
  });

  it('has an icon for every kind and status', () => {
    for (const [kind, icon] of Object.entries(KIND_ICON)) {
      expect(toolIcon(kind)).toBe(icon);
    }
    expect(toolIcon('new-kind')).toBe(KIND_ICON.other);
    expect(statusIcon('in_progress')).toBe('loading~spin');
    expect(renderTranscript({ ...new TranscriptModel(S).state, running: true })).toContain('codicon-loading codicon-modifier-spin');
  });

  it("nests a sub-agent's tool calls and text under its task call", () => {
    const m = new TranscriptModel(S);
    const thought = (t: string): SessionUpdate => ({
      sessionUpdate: 'agent_thought_chunk',
      content: { type: 'text', text: t },
      parentToolCallId: 'call_0',
    });
    feed(m, [
      { sessionUpdate: 'tool_call', toolCallId: 'call_0', title: 'Task: Read the notes', kind: 'think' },
      { sessionUpdate: 'tool_call_update', toolCallId: 'call_0', status: 'in_progress' },
      { sessionUpdate: 'tool_call', toolCallId: 'call_0/call_0', title: 'Read notes.txt', kind: 'read', parentToolCallId: 'call_0' },
      { sessionUpdate: 'tool_call_update', toolCallId: 'call_0/call_0', status: 'completed', parentToolCallId: 'call_0' },
      thought('It says '),
      thought('milk.'),
      { sessionUpdate: 'tool_call_update', toolCallId: 'call_0', status: 'completed' },
      text('Milk.'),
    ]);
    const [task, answer] = m.state.entries;
    expect(m.state.entries).toHaveLength(2); // nothing of the sub-agent at the top level
    expect(answer).toEqual({ type: 'agent', text: 'Milk.' });
    const children = (task as ToolEntry).children!;
    expect(children.map((c) => c.type)).toEqual(['tool', 'thought']);
    expect((children[0] as ToolEntry).status).toBe('completed');
    expect(children[1]).toEqual({ type: 'thought', text: 'It says milk.' });
    const html = renderTranscript(m.state);
    const inner = html.slice(html.indexOf('Task: Read the notes'), html.indexOf('Milk.</p>'));
    expect(inner).toContain('<div class="children"><div class="entry nested">');
    expect(inner).toContain('Read notes.txt');
    expect(inner).toContain('It says milk.');
  });

  it('shows an update whose parent it never saw at the top level', () => {
    const m = new TranscriptModel(S);
    feed(m, [{ sessionUpdate: 'tool_call', toolCallId: 'x/y', title: 'Read', kind: 'read', parentToolCallId: 'x' }]);
    expect(m.state.entries).toHaveLength(1);
  });

  it('marks calls still open when the prompt ends as failed', () => {
    const m = new TranscriptModel(S);
    feed(m, [{ sessionUpdate: 'tool_call', toolCallId: 'c', title: 'Run', kind: 'execute' }]);
    m.finishPrompt(result({ stopReason: 'cancelled' }));
    expect(m.tool('c')!.status).toBe('failed');
  });
});

describe('plan', () => {
  it('replaces the whole plan on each update', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'plan', entries: [{ content: 'Read', status: 'in_progress' }, { content: 'Fix' }] },
      { sessionUpdate: 'plan', entries: [{ content: 'Read', status: 'completed', priority: 'high' }, { content: 'Fix', status: 'in_progress' }] },
    ]);
    expect(m.state.plan).toEqual([
      { content: 'Read', status: 'completed', priority: 'high' },
      { content: 'Fix', status: 'in_progress', priority: 'medium' },
    ]);
    const html = renderTranscript(m.state);
    expect(html).toContain('class="plan"');
    expect(html).toContain('plan-completed');
    expect(html).toContain('codicon-pass-filled');
  });
});

describe('usage', () => {
  it('tracks context tokens and the session cost across prompts', () => {
    const m = new TranscriptModel(S);
    feed(m, [
      { sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'one' } },
      { sessionUpdate: 'usage_update', used: 1200, size: 32000, cost: { amount: 0.001, currency: 'USD' } },
      { sessionUpdate: 'usage_update', used: 2400, size: 32000, cost: { amount: 0.002, currency: 'USD' } },
    ]);
    expect(m.state.usage).toMatchObject({ contextUsed: 2400, contextSize: 32000, runCost: 0.002 });
    m.finishPrompt(result({ costUsd: 0.0025, usage: { totalTokens: 3000 } }));
    expect(sessionCost(m.state.usage)).toBeCloseTo(0.0025);
    feed(
      m,
      [
        { sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'two' } },
        { sessionUpdate: 'usage_update', used: 3000, size: 32000, cost: { amount: 0.001 } },
      ],
      3,
    );
    expect(sessionCost(m.state.usage)).toBeCloseTo(0.0035);
    expect(m.state.usage.totalTokens).toBe(3000);
    expect(usageLine(m.state)).toBe('context 3k / 32k · 3k tokens · $0.0035');
  });

  it('has no cost without pricing', () => {
    const m = new TranscriptModel(S);
    feed(m, [{ sessionUpdate: 'usage_update', used: 10 }]);
    expect(sessionCost(m.state.usage)).toBeNull();
    expect(usageLine(m.state)).toBe('context 10');
  });

  it('formats tokens and costs compactly', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(1234)).toBe('1.23k');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(1_234_567)).toBe('1.23M');
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(0.00123)).toBe('$0.0012');
    expect(formatCost(1.5)).toBe('$1.50');
  });
});

describe('prompt results and notes', () => {
  it('closes a prompt with its stop reason, tokens and cost', () => {
    const m = new TranscriptModel(S);
    m.setRunning(true);
    m.finishPrompt(result({ costUsd: 0.01, editedUris: ['file:///ws/a.py'] }));
    expect(m.state.running).toBe(false);
    const note = m.state.entries.at(-1)!;
    expect(note).toEqual({ type: 'note', level: 'info', text: 'Done · 1.5k tokens · $0.01 · 1 file(s) edited' });
  });

  it('shows errors and limits', () => {
    const m = new TranscriptModel(S);
    m.finishPrompt(result({ stopReason: 'model_error', error: 'connection refused', usage: {} }));
    m.finishPrompt(result({ stopReason: 'budget', limit: 'maxTokens', usage: {} }));
    expect(m.state.entries).toEqual([
      { type: 'note', level: 'error', text: 'Stopped: the model failed\nconnection refused' },
      { type: 'note', level: 'warning', text: 'Stopped: a budget limit was reached (maxTokens)' },
    ]);
  });

  it('tells what an undo did', () => {
    const m = new TranscriptModel(S);
    m.noteUndo({ revertedUris: ['file:///ws/a.py'], conflicts: [] });
    m.noteUndo({ revertedUris: [], conflicts: ['file:///ws/b%20c.py'] });
    m.noteUndo({ revertedUris: [], conflicts: [] });
    expect(m.state.entries.map((e) => (e.type === 'note' ? e.text : ''))).toEqual([
      'Undid the last turn: reverted a.py.',
      'Not undone: b c.py changed since the agent edited them.',
      'Nothing to undo: the last turn edited no file.',
    ]);
  });

  it('takes the title from session_info_update', () => {
    const m = new TranscriptModel(S);
    feed(m, [{ sessionUpdate: 'session_info_update', title: 'Fix <add>' }]);
    expect(m.state.title).toBe('Fix <add>');
    expect(renderTranscript(m.state)).toContain('Fix &lt;add&gt;');
  });
});
