import { describe, expect, it, vi } from 'vitest';
import { AgentController, Busy, type Connection, LAST_SESSION_KEY, NotConnected } from '../../src/controller';
import type { PromptResult, SessionUpdateParams } from '../../src/protocol';
import { titleOf } from '../../src/transcript/model';

const DONE: PromptResult = { stopReason: 'end_turn', usage: { totalTokens: 10 }, turns: 1, toolCalls: 0, editedUris: [] };

/** A fake server: answers requests from a table; prompts wait until released. */
function fakeServer() {
  const sent: Array<[string, unknown]> = [];
  const notified: Array<[string, unknown]> = [];
  let release: ((r: PromptResult) => void) | undefined;
  let sessions = 0;
  const connection: Connection = {
    sendRequest: vi.fn(async (method: string, params: unknown): Promise<unknown> => {
      sent.push([method, params]);
      switch (method) {
        case 'agent/session/new':
          return { sessionId: `s${++sessions}` };
        case 'agent/session/prompt':
          return new Promise<PromptResult>((resolve) => (release = resolve));
        case 'agent/session/list':
          return { sessions: [] };
        case 'agent/session/load':
          return { sessionId: (params as { sessionId: string }).sessionId, updates: 0 };
        case 'agent/session/undo':
          return { revertedUris: ['file:///ws/a.py'], conflicts: [] };
        default:
          throw new Error(`unexpected ${method}`);
      }
    }) as Connection['sendRequest'],
    sendNotification: vi.fn((method: string, params: unknown) => void notified.push([method, params])),
  };
  return { connection, sent, notified, finish: (r: PromptResult = DONE) => release?.(r) };
}

function memento(initial: Record<string, unknown> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    values,
    get: <T>(key: string) => values.get(key) as T | undefined,
    update: vi.fn(async (key: string, value: unknown) => void values.set(key, value)),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('AgentController', () => {
  it('creates a session for the first prompt and remembers it', async () => {
    const server = fakeServer();
    const state = memento();
    const c = new AgentController(state);
    c.setConnection(server.connection);
    const changes = vi.fn();
    c.onDidChange(changes);
    const pending = c.prompt('hello', { textDocument: { uri: 'file:///ws/a.py' } }, '/ws');
    await flush();
    expect(server.sent[0]).toEqual(['agent/session/new', { cwd: '/ws' }]);
    expect(server.sent[1]).toEqual([
      'agent/session/prompt',
      { sessionId: 's1', prompt: 'hello', context: { textDocument: { uri: 'file:///ws/a.py' } } },
    ]);
    expect(c.running).toBe(true);
    expect(state.values.get(LAST_SESSION_KEY)).toBe('s1');
    await expect(c.prompt('again')).rejects.toBeInstanceOf(Busy);
    server.finish();
    expect(await pending).toEqual(DONE);
    expect(c.running).toBe(false);
    expect(changes).toHaveBeenCalled();
    // the next prompt continues the same session
    const next = c.prompt('more');
    await flush();
    expect(server.sent.filter(([m]) => m === 'agent/session/new')).toHaveLength(1);
    server.finish();
    await next;
  });

  it('routes updates to their session and re-renders only for the current one', () => {
    const c = new AgentController();
    c.setConnection(fakeServer().connection);
    void c.setCurrent('a');
    const changes = vi.fn();
    c.onDidChange(changes);
    const update = (sessionId: string, seq: number, text: string): SessionUpdateParams => ({
      sessionId,
      seq,
      update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } },
    });
    c.handleUpdate(update('a', 0, 'for a'));
    c.handleUpdate(update('b', 0, 'for b'));
    expect(changes).toHaveBeenCalledTimes(1);
    expect(c.model('a').agentText()).toBe('for a');
    expect(c.model('b').agentText()).toBe('for b');
    c.handleUpdate(null as never); // junk from a broken server is ignored
  });

  it('cancels the running prompt with agent/session/cancel', async () => {
    const server = fakeServer();
    const c = new AgentController();
    c.setConnection(server.connection);
    expect(c.cancel()).toBe(false);
    const pending = c.prompt('long');
    await flush();
    expect(c.cancel()).toBe(true);
    expect(server.notified).toEqual([['agent/session/cancel', { sessionId: 's1' }]]);
    server.finish({ ...DONE, stopReason: 'cancelled' });
    expect((await pending).stopReason).toBe('cancelled');
  });

  it('shows a failed prompt request in the transcript', async () => {
    const c = new AgentController();
    c.setConnection({
      sendRequest: async <R>(method: string): Promise<R> => {
        if (method === 'agent/session/new') {
          return { sessionId: 's' } as R;
        }
        throw Object.assign(new Error('invalid params: prompt: the prompt is empty'), { code: -32602 });
      },
      sendNotification: () => undefined,
    });
    await expect(c.prompt(' ')).rejects.toThrow('the prompt is empty');
    expect(c.current!.state.entries.at(-1)).toEqual({
      type: 'note',
      level: 'error',
      text: 'The prompt failed: invalid params: prompt: the prompt is empty',
    });
    expect(c.running).toBe(false);
  });

  it('ends a running prompt when the server goes away', async () => {
    const server = fakeServer();
    const c = new AgentController();
    c.setConnection(server.connection);
    void c.prompt('x').catch(() => undefined);
    await flush();
    c.setConnection(undefined);
    expect(c.running).toBe(false);
    expect(c.current!.state.entries.at(-1)).toMatchObject({ type: 'note', text: 'The server stopped.' });
    await expect(c.list()).rejects.toBeInstanceOf(NotConnected);
  });

  it('loads a session into a clean transcript and restores the last one', async () => {
    const server = fakeServer();
    const state = memento({ [LAST_SESSION_KEY]: 'old' });
    const c = new AgentController(state);
    c.setConnection(server.connection);
    c.model('old').note('info', 'stale');
    expect(await c.restore()).toBe(true);
    expect(server.sent).toEqual([['agent/session/load', { sessionId: 'old' }]]);
    expect(c.current!.state.sessionId).toBe('old');
    expect(c.current!.state.entries).toEqual([]); // reset before the replay
  });

  it('forgets a remembered session the server no longer has', async () => {
    const state = memento({ [LAST_SESSION_KEY]: 'gone' });
    const c = new AgentController(state);
    c.setConnection({
      sendRequest: async () => {
        throw new Error("invalid params: sessionId: no session 'gone'");
      },
      sendNotification: () => undefined,
    });
    expect(await c.restore()).toBe(false);
    expect(c.current).toBeUndefined();
    expect(state.values.get(LAST_SESSION_KEY)).toBeUndefined();
    expect(await new AgentController(memento()).restore()).toBe(false);
  });

  it('undoes the last turn of the current session', async () => {
    const server = fakeServer();
    const c = new AgentController();
    c.setConnection(server.connection);
    await expect(c.undo()).rejects.toThrow('no session');
    await c.setCurrent('s9');
    expect(await c.undo()).toEqual({ revertedUris: ['file:///ws/a.py'], conflicts: [] });
    expect(server.sent.at(-1)).toEqual(['agent/session/undo', { sessionId: 's9', turns: 1 }]);
    await c.undo(true);
    expect(server.sent.at(-1)).toEqual(['agent/session/undo', { sessionId: 's9', turns: 1, force: true }]);
    expect(c.current!.state.entries.at(-1)).toMatchObject({ text: 'Undid the last turn: reverted a.py.' });
  });

  it('accepts seq from 0 again after the server restarted', () => {
    const c = new AgentController();
    c.setConnection(fakeServer().connection);
    const chunk = (seq: number, text: string): SessionUpdateParams => ({
      sessionId: 's',
      seq,
      update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } },
    });
    c.handleUpdate(chunk(0, 'a'));
    c.handleUpdate(chunk(1, 'b'));
    c.setConnection(undefined);
    c.setConnection(fakeServer().connection); // a new server process
    c.handleUpdate(chunk(0, 'c'));
    expect(c.model('s').agentText()).toBe('abc');
    expect(c.model('s').state.gaps).toBe(0);
  });

  it('titles a session by its first prompt until the server names it', () => {
    expect(titleOf('  fix the bug\nin add()')).toBe('fix the bug');
    expect(titleOf('x'.repeat(100))).toHaveLength(80);
  });
});
