/** protocol.ts spells the same methods, updates and enums as schemas/ (the server's). */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/permissions';
import { CLIENT_CAPABILITIES, LANGUAGE_FEATURE_METHODS, METHODS, PROTOCOL_VERSION, TOOL_KINDS, UPDATE_KINDS } from '../../src/protocol';
import { KIND_ICON, STATUS_ICON, STOP_REASONS } from '../../src/transcript/model';

const schemas = join(__dirname, '..', '..', '..', '..', 'schemas');
const read = (file: string) => JSON.parse(readFileSync(join(schemas, file), 'utf8'));
const index = read('index.json');

describe('protocol.ts agrees with schemas/', () => {
  it('has the same protocol version', () => {
    expect(PROTOCOL_VERSION).toBe(index.protocolVersion);
  });

  it('names every method the schemas name, and no other', () => {
    expect([...METHODS].sort()).toEqual(Object.keys(index.methods).sort());
  });

  it('knows every update kind', () => {
    expect([...UPDATE_KINDS].sort()).toEqual(Object.keys(index.updates).sort());
  });

  it('knows every tool kind, each with an icon', () => {
    const update = read(index.methods['agent/session/update'].params);
    const kinds = update.$defs.ToolCallUpdateShape.properties.kind.enum;
    expect([...TOOL_KINDS].sort()).toEqual([...kinds].sort());
    expect(Object.keys(KIND_ICON).sort()).toEqual([...kinds].sort());
    const statuses = update.$defs.ToolCallProgressShape.properties.status.anyOf[0].enum;
    for (const status of ['pending', ...statuses]) {
      expect(STATUS_ICON).toHaveProperty(status);
    }
  });

  it('labels every permission option kind', () => {
    const params = read(index.methods['agent/session/request_permission'].params);
    expect(Object.keys(LABELS).sort()).toEqual([...params.$defs.PermissionOption.properties.kind.enum].sort());
  });

  it('describes every stop reason', () => {
    const result = read(index.methods['agent/session/prompt'].result);
    expect(Object.keys(STOP_REASONS).sort()).toEqual([...result.properties.stopReason.enum].sort());
  });

  it('advertises the five client capabilities of the README', () => {
    expect(CLIENT_CAPABILITIES).toEqual({
      requestPermission: true,
      getDiagnostics: true,
      saveDocuments: true,
      languageFeatures: true,
      review: true,
    });
  });

  it('answers every language feature method the server sends', () => {
    const params = read(index.methods['agent/languageFeature'].params);
    expect([...LANGUAGE_FEATURE_METHODS].sort()).toEqual([...params.properties.method.enum].sort());
  });
});
