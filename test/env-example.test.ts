import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseEnv } from 'node:util';
import { loadConfig } from '../src/config.js';

const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const example = parseEnv(text);

describe('.env.example', () => {
  it('lists every variable the configuration reads, each with a comment', () => {
    const source = [
      '../src/config.ts',
      ...readdirSync(new URL('../src/config', import.meta.url)).map((f) => `../src/config/${f}`),
    ]
      .map((file) => readFileSync(new URL(file, import.meta.url), 'utf8'))
      .join('\n');
    const read = [...source.matchAll(/^ {2}([A-Z][A-Z_]+): /gm)].map((m) => m[1]);
    assert.ok(read.length >= 20, `${read.length} variables found in config.ts`);
    for (const name of read) {
      assert.ok(name !== undefined && name in example, `${name} is in .env.example`);
      assert.match(
        text,
        new RegExp(`# [^\\n]+\\n${name}=`),
        `${name} has a comment right above it`,
      );
    }
  });

  it('holds exactly the defaults: loading it changes nothing', () => {
    const fromExample = loadConfig({
      env: { ...example, COMPOSE_PROJECT_NAME: '' },
      envFile: false,
    });
    const defaults = loadConfig({ env: {}, envFile: false });
    assert.equal(JSON.stringify(fromExample), JSON.stringify(defaults));
  });
});
