/** The transcript webview: updates batched per frame, patches that carry only what changed. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentController, type Connection } from '../../src/controller';
import type { DiffDocuments } from '../../src/diffs';
import type { SessionUpdate } from '../../src/protocol';
import { TranscriptModel } from '../../src/transcript/model';
import { type TranscriptPatch, compactionLine, renderTranscript } from '../../src/transcript/render';
import { FRAME_MS, TranscriptView } from '../../src/transcript/view';
import * as vscode from '../vscode.mock';

const connection: Connection = {
  sendRequest: (async (method: string) => (method === 'agent/session/new' ? { sessionId: 's1' } : {})) as Connection['sendRequest'],
  sendNotification: () => undefined,
};

function fakeView() {
  const posted: Array<{ type: string; html?: string } & Partial<TranscriptPatch>> = [];
  const view = {
    description: undefined as string | undefined,
    visible: true,
    show: vi.fn(),
    onDidChangeVisibility: () => new vscode.Disposable(),
    onDidDispose: () => new vscode.Disposable(),
    webview: {
      options: {},
      html: '',
      cspSource: 'vscode-resource:',
      asWebviewUri: (uri: unknown) => uri,
      onDidReceiveMessage: () => new vscode.Disposable(),
      postMessage: vi.fn(async (message: (typeof posted)[number]) => {
        posted.push(message);
        return true;
      }),
    },
  };
  return { view, posted };
}

const text = (t: string): SessionUpdate => ({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: t } });

describe('TranscriptView', () => {
  let seq = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    seq = 0;
  });
  afterEach(() => vi.useRealTimers());

  async function setUp() {
    const controller = new AgentController();
    controller.setConnection(connection);
    await controller.newSession('/ws');
    const transcript = new TranscriptView(vscode.Uri.file('/ext') as never, controller, {} as DiffDocuments);
    transcript.register();
    const { view, posted } = fakeView();
    transcript.resolveWebviewView(view as never);
    const send = (update: SessionUpdate) => controller.handleUpdate({ sessionId: 's1', seq: seq++, update });
    return { posted, send };
  }

  it('posts one message per frame however many deltas arrive, and only the changed entries', async () => {
    const { posted, send } = await setUp();
    send({ sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'explain' } });
    await vi.advanceTimersByTimeAsync(FRAME_MS);
    expect(posted.map((m) => m.type)).toEqual(['render']); // the first render is the whole page
    for (let frame = 0; frame < 10; frame++) {
      for (let i = 0; i < 50; i++) {
        send(text(`word${frame}.${i} `));
      }
      send(text('\n\n')); // a paragraph per frame
      await vi.advanceTimersByTimeAsync(FRAME_MS);
    }
    const patches = posted.slice(1);
    expect(patches).toHaveLength(10); // 510 deltas, 10 frames, 10 messages
    for (const patch of patches) {
      expect(patch.type).toBe('patch');
      expect(patch.entries!.map((e) => e.index)).toEqual([1]); // the answer, not the prompt
    }
    // the answer's first patch is the whole entry; then only its new paragraphs, each once
    expect(patches[0]!.entries![0]).toHaveProperty('html');
    const sent = patches.slice(1).map((p) => p.entries![0] as { from: number; blocks: string[] });
    expect(sent.map((e) => e.from)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sent.map((e) => e.blocks.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(sent[8]!.blocks[0]).toContain('word9.49');
    expect(sent[8]!.blocks[0]).not.toContain('word8.49'); // not the whole answer again
    const sizes = patches.slice(1).map((p) => JSON.stringify(p).length);
    expect(Math.max(...sizes)).toBeLessThan(2 * Math.min(...sizes)); // flat, not growing
    // nothing changed: no message at all
    await vi.advanceTimersByTimeAsync(10 * FRAME_MS);
    expect(posted).toHaveLength(11);
  });

  it('a tool call and a compaction are patched in; a reset sends the whole page again', async () => {
    const { posted, send } = await setUp();
    send(text('Looking. '));
    await vi.advanceTimersByTimeAsync(FRAME_MS);
    send({ sessionUpdate: 'tool_call', toolCallId: 't1', title: 'Read app.py', kind: 'read' });
    send({ sessionUpdate: 'compaction', method: 'summarize', tokensBefore: 3900, tokensAfter: 2000, reason: 'threshold' });
    await vi.advanceTimersByTimeAsync(FRAME_MS);
    const patch = posted[posted.length - 1]!;
    expect(patch.type).toBe('patch');
    expect(patch.entries!.map((e) => e.index)).toEqual([1, 2]);
    expect(JSON.stringify(patch.entries![1])).toContain('Context compacted: older turns summarized, 3.9k → 2k tokens');
    expect(patch.foot).toContain('context 2k');
    send({ sessionUpdate: 'tool_call_update', toolCallId: 't1', status: 'completed' });
    await vi.advanceTimersByTimeAsync(FRAME_MS);
    expect(posted[posted.length - 1]!.entries!.map((e) => e.index)).toEqual([1]);
  });
});

describe('compaction in the model', () => {
  it('adds a line and drops the meter to what is left; a sub-agent leaves the meter alone', () => {
    const m = new TranscriptModel('s');
    m.apply({ sessionId: 's', seq: 0, update: { sessionUpdate: 'usage_update', used: 3900, size: 4000 } });
    m.apply({
      sessionId: 's',
      seq: 1,
      update: { sessionUpdate: 'compaction', method: 'snip', tokensBefore: 3900, tokensAfter: 1200, reason: 'overflow' },
    });
    expect(m.state.usage.contextUsed).toBe(1200);
    const [entry] = m.state.entries;
    expect(entry?.type).toBe('compaction');
    expect(compactionLine(entry as never)).toBe(
      "Context compacted: old tool outputs removed (the server's context overflowed), 3.9k → 1.2k tokens",
    );
    expect(renderTranscript(m.state)).toContain('3.9k → 1.2k tokens');
    m.apply({
      sessionId: 's',
      seq: 2,
      update: { sessionUpdate: 'compaction', method: 'summarize', tokensBefore: 900, tokensAfter: 100, parentToolCallId: 'task1' },
    });
    expect(m.state.usage.contextUsed).toBe(1200);
    expect(m.takeChanges()).toEqual({ full: false, entries: [0, 1] });
    expect(m.takeChanges()).toEqual({ full: false, entries: [] });
    m.reset();
    expect(m.takeChanges().full).toBe(true);
  });
});

describe('agentBlocks', () => {
  it('cuts finished paragraphs, never inside a code fence, and renders as the whole would', async () => {
    const { agentBlocks, renderMarkdown } = await import('../../src/transcript/render');
    const entry = { type: 'agent' as const, text: '' };
    const full = 'One *para*.\n\n```py\nx = 1\n\ny = 2\n```\n\n- a\n- b\n\nTail so far';
    for (const piece of full.match(/.{1,3}/gs)!) {
      entry.text += piece;
      agentBlocks(entry); // streamed: blocks are cut as they finish
    }
    const { blocks, tail } = agentBlocks(entry);
    expect(blocks).toHaveLength(3);
    expect(blocks[1]).toContain('x = 1\n\ny = 2'); // the fence kept whole
    expect(blocks.join('') + tail).toBe(renderMarkdown(full).replace(/\n(?=<)/g, '\n'));
  });
});
