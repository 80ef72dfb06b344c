// CommonJS dependencies (vscode-languageclient) `require('vscode')` through Node, where the
// vitest alias does not reach: hand them the same mock module the tests and sources import.
// vscode-languageclient subclasses many VS Code classes at load time; names the mock lacks
// become empty classes.
import Module from 'node:module';
import * as vscode from './vscode.mock';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load & { lspAgentMock?: boolean } };
const stand_ins = new Map<string, unknown>();
const proxy = new Proxy(vscode as Record<string, unknown>, {
  get(target, key) {
    if (key === '__esModule') {
      return true; // so `__importStar` uses this proxy as it is
    }
    if (key in target) {
      return target[key as string];
    }
    if (typeof key === 'string' && /^[A-Z]/.test(key)) {
      if (!stand_ins.has(key)) {
        stand_ins.set(key, class {});
      }
      return stand_ins.get(key);
    }
    return undefined;
  },
});

if (!loader._load.lspAgentMock) {
  const original = loader._load;
  const patched: Load & { lspAgentMock?: boolean } = function (this: unknown, request, parent, isMain) {
    return request === 'vscode' ? proxy : original.call(this, request, parent, isMain);
  };
  patched.lspAgentMock = true;
  loader._load = patched;
}
