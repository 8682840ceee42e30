import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeServer, json, reply } from './support/fake-llm.js';
import { type Run, runNode } from './support/run-process.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** `cql-agent chat` with these input lines and this environment only, in an empty folder. */
async function chat(input: string[], env: Record<string, string>): Promise<Run> {
  const cwd = await mkdtemp(join(tmpdir(), 'cql-cli-llm-'));
  try {
    return await runNode(['--import', TSX, MAIN, 'chat', '--session', 'cli-llm'], {
      cwd,
      env: { LOG_LEVEL: 'info', ...env },
      input: input.map((line) => `${line}\n`).join(''),
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

describe('cql-agent chat with a language model', () => {
  let ollama: FakeServer;
  before(async () => {
    ollama = await FakeServer.start('ollama');
  });
  after(() => ollama.close());

  it('uses the configured provider, and reports a failed turn without stopping', async () => {
    ollama.behave(
      json({ error: 'model not loaded' }, 500),
      reply('Troque o courinho da torneira.'),
    );
    const run = await chat(['a torneira está pingando', 'a torneira está pingando', 'sair'], {
      LLM_PROVIDER: 'ollama',
      OLLAMA_BASE_URL: ollama.url,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Erro: O modelo de linguagem falhou: ollama respondeu com HTTP 500\./);
    assert.doesNotMatch(run.stdout, /model not loaded/, 'what the server wrote is for the logs');
    assert.match(run.stderr, /"upstream_reason":"model not loaded"/);
    assert.match(run.stdout, /Assistente: Troque o courinho da torneira\./);
    assert.equal(ollama.requests.length, 2);
    assert.match(run.stderr, /"event_type":"responder_ready"/);
    assert.match(run.stderr, /"provider":"ollama"/);
  });

  it('stops with one clear line for a malformed file in KNOWLEDGE_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cql-cli-knowledge-'));
    try {
      await writeFile(join(dir, 'quebrado.md'), '# Sem o resto\n');
      const run = await chat([], { KNOWLEDGE_DIR: dir });
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        /^cql-agent: configuração inválida: KNOWLEDGE_DIR tem o arquivo de reparo ".*quebrado\.md" malformado: /m,
      );
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops with one clear line for a missing KNOWLEDGE_DIR', async () => {
    const run = await chat([], { KNOWLEDGE_DIR: '/nonexistent/manuals' });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^cql-agent: configuração inválida: KNOWLEDGE_DIR deve ser uma pasta legível com arquivos de reparo \*\.md \(recebido "\/nonexistent\/manuals": arquivo ou pasta inexistente\)$/m,
    );
  });
});
