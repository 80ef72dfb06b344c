/**
 * The settings contributed in package.json agree with the server's settings schema
 * (schemas/settings.json, generated from lsp_agent/config.py): every server setting has a
 * `lspAgent.<group>.<key>` contribution with the same types, default, enum and bounds, and
 * no contribution names a setting the server does not know, except `lspAgent.server.*`.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

type Schema = {
  type?: string | string[];
  anyOf?: Schema[];
  $ref?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  $defs?: Record<string, Schema>;
  description?: string;
  markdownDescription?: string;
};

const here = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const schema: Schema = JSON.parse(readFileSync(join(here, '..', '..', 'schemas', 'settings.json'), 'utf8'));
const contributed: Record<string, Schema> = pkg.contributes.configuration.properties;

function resolve(s: Schema): Schema {
  if (s.$ref) {
    const name = s.$ref.split('/').pop()!;
    return resolve(schema.$defs![name]!);
  }
  return s;
}

/** The JSON types a schema allows, and its non-null branch (where enum and bounds live). */
function shape(s: Schema): { types: string[]; main: Schema } {
  s = resolve(s);
  if (s.anyOf) {
    const branches = s.anyOf.map(resolve);
    const types = branches.flatMap((b) => (Array.isArray(b.type) ? b.type : [b.type!]));
    return { types: [...new Set(types)].sort(), main: branches.find((b) => b.type !== 'null') ?? branches[0]! };
  }
  return { types: (Array.isArray(s.type) ? s.type : [s.type!]).slice().sort(), main: s };
}

/** What the server defaults to: the schema default, or empty for default_factory fields. */
function serverDefault(s: Schema, types: string[]): unknown {
  if ('default' in s) {
    return s.default;
  }
  if (types.includes('array')) {
    return [];
  }
  if (types.includes('object')) {
    return {};
  }
  throw new Error('a server setting without a default');
}

const serverSettings: Array<[string, Schema]> = Object.entries(schema.properties!).flatMap(([group, ref]) =>
  Object.entries(resolve(ref).properties!).map(([key, s]) => [`lspAgent.${group}.${key}`, s] as [string, Schema]),
);

describe('package.json settings mirror schemas/settings.json', () => {
  it('finds the server settings', () => {
    expect(serverSettings.length).toBeGreaterThan(20);
  });

  it.each(serverSettings)('%s is contributed with a compatible type, default, enum and bounds', (name, s) => {
    const mine = contributed[name];
    expect(mine, `${name} is missing from contributes.configuration`).toBeDefined();
    const theirs = shape(s);
    const ours = shape(mine!);
    expect(ours.types).toEqual(theirs.types);
    expect(mine!.default).toEqual(serverDefault(s, theirs.types));
    expect(ours.main.enum).toEqual(theirs.main.enum);
    for (const bound of ['minimum', 'maximum', 'exclusiveMinimum'] as const) {
      expect(ours.main[bound], `${name}: ${bound}`).toEqual(theirs.main[bound]);
    }
    if (theirs.types.includes('array')) {
      expect(mine!.items).toEqual(resolve(theirs.main.items!));
    }
    const extra = theirs.main.additionalProperties;
    if (extra && typeof extra === 'object') {
      const want = resolve(extra);
      const have = mine!.additionalProperties as Schema;
      expect(have).toBeTypeOf('object');
      if (want.properties) {
        expect(Object.keys(have.properties ?? {}).sort()).toEqual(Object.keys(want.properties).sort());
      } else {
        expect(have.type).toEqual(want.type);
      }
    }
    expect(mine!.markdownDescription ?? mine!.description).toBeTruthy();
  });

  it('contributes no setting the server does not know, except lspAgent.server.*', () => {
    const known = new Set(serverSettings.map(([name]) => name));
    const unknown = Object.keys(contributed).filter((name) => !known.has(name) && !name.startsWith('lspAgent.server.'));
    expect(unknown).toEqual([]);
  });

  it('keeps the extension-only settings under lspAgent.server', () => {
    const own = Object.keys(contributed).filter((name) => name.startsWith('lspAgent.server.'));
    expect(own.sort()).toEqual(['lspAgent.server.args', 'lspAgent.server.command', 'lspAgent.server.logLevel', 'lspAgent.server.pythonPath']);
    expect(schema.properties!.server).toBeUndefined(); // the server has no group of that name
  });

  it('restricts only contributed settings in untrusted workspaces', () => {
    for (const name of pkg.capabilities.untrustedWorkspaces.restrictedConfigurations as string[]) {
      expect(contributed[name], name).toBeDefined();
    }
  });
});
