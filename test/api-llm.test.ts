import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../src/api/create-api.js';
import { ConfigError } from '../src/config.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.js';
import { type Answer, type ChatClient, injectClient } from './support/chat.js';
import {
  FakeServer,
  hang,
  json,
  raw,
  refusingUrl,
  reply,
  results,
  trickle,
} from './support/fake-llm.js';
import { captureLogs, testConfig } from './support/fixtures.js';
import { TEST_ADMIN_KEY, testApi } from './support/test-api.js';
import { until } from './support/until.js';

const MODEL_REPLY = 'Feche o registro e troque o courinho da torneira.';

/** An API whose responder is the one the configuration names. */
const api = (env: Record<string, string>) => testApi(env, 'configured');

/** Two APIs over one store, as two instances over one Redis: the configured responder each. */
async function apiOver(store: MemorySessionStore, env: Record<string, string>) {
  const logs = captureLogs('info');
  const app = await createApi({
    config: testConfig({ RATE_LIMIT_PER_MINUTE: '0', ADMIN_API_KEY: TEST_ADMIN_KEY, ...env }),
    logger: logs.logger,
    store,
  });
  return { app, logs };
}

/** One client per app under test: it keeps the sessions' tokens. */
const clients = new WeakMap<FastifyInstance, ChatClient>();
function clientOf(app: FastifyInstance): ChatClient {
  let client = clients.get(app);
  if (!client) {
    client = injectClient(app);
    clients.set(app, client);
  }
  return client;
}
async function chat(app: FastifyInstance, message: string, session_id: string, extra = {}) {
  return clientOf(app).chat({ message, session_id, ...extra });
}

const historyOf = async (store: MemorySessionStore, id: string) =>
  JSON.parse((await store.get(id)) ?? '{"conversation_history": []}')
    .conversation_history as Array<{
    role: string;
    content: string;
  }>;

describe('HTTP API with a language model', () => {
  let ollama: FakeServer;
  let searxng: FakeServer;
  let openai: FakeServer;
  before(async () => {
    [ollama, searxng, openai] = await Promise.all([
      FakeServer.start('ollama'),
      FakeServer.start('searxng'),
      FakeServer.start('openai'),
    ]);
  });
  beforeEach(() => {
    for (const server of [ollama, searxng, openai]) server.clear();
    ollama.behave(reply(MODEL_REPLY));
    openai.behave(reply(MODEL_REPLY));
    searxng.behave(
      results([{ title: 'Notebook não liga', url: 'https://example.com/n', content: 'Fonte.' }]),
    );
  });
  after(() => Promise.all([ollama.close(), searxng.close(), openai.close()]));

  /** A model that answers is given all the time a loaded machine may need; the timeout tests
   * set a short LLM_TIMEOUT with a model that never answers. */
  const ollamaEnv = (extra: Record<string, string> = {}) => ({
    LLM_PROVIDER: 'ollama',
    OLLAMA_BASE_URL: ollama.url,
    OLLAMA_MODEL: 'qwen2.5:3b',
    LLM_TIMEOUT: '30',
    ...extra,
  });

  describe('answers', () => {
    let app: FastifyInstance;
    let store: MemorySessionStore;
    before(async () => {
      ({ app, store } = await api(ollamaEnv({ WEB_SEARCH_URL: searxng.url })));
    });
    after(() => app.close());

    it("answers with the model's reply and says what it was based on", async () => {
      const { status, body } = await chat(app, 'a torneira está pingando', 'model-reply');
      assert.equal(status, 200);
      assert.equal(
        body.response,
        `${MODEL_REPLY}\n\nO problema foi resolvido? Responda com 'sim' ou 'não'.`,
      );
      assert.equal(body.state, 'waiting_feedback');
      assert.deepEqual(body.metadata, {
        rag_enabled: true,
        web_search_enabled: true,
        current_attempt: 1,
        max_attempts: 3,
        sources: ['torneira-pingando'],
        web_sources: [],
        llm_provider: 'ollama',
        fallback_used: false,
        web_search: 'not_needed',
        relevance_score: 1,
      });
      assert.equal(ollama.last.body?.model, 'qwen2.5:3b');
      const history = await historyOf(store, 'model-reply');
      assert.deepEqual(
        history.map((m) => m.role),
        ['user', 'assistant'],
      );
      assert.equal(history[1]?.content, body.response);
    });

    it('searches the web for what the knowledge base does not know', async () => {
      const { body } = await chat(app, 'meu notebook não liga', 'web');
      assert.equal(body.metadata.web_search, 'used');
      assert.deepEqual(body.metadata.web_sources, ['https://example.com/n']);
      assert.deepEqual(body.metadata.sources, []);
      const disabled = await chat(app, 'meu notebook não liga', 'no-web', {
        use_web_search: false,
      });
      assert.equal(disabled.body.metadata.web_search, 'disabled');
      assert.equal(searxng.requests.length, 1);
    });

    it('answers the fixed replies itself, without the model', async () => {
      await chat(app, 'a porta está rangendo', 'fixed');
      ollama.clear();
      const { body } = await chat(app, 'sim', 'fixed');
      assert.equal(body.state, 'resolved');
      assert.deepEqual(body.metadata.sources, []);
      assert.equal(body.metadata.web_search, 'not_needed');
      assert.equal(body.metadata.llm_provider, 'ollama');
      assert.equal(ollama.requests.length, 0);
    });

    it('describes the new metadata in the OpenAPI document', async () => {
      const openapi = (await app.inject({ url: '/openapi.json' })).json();
      const ok =
        openapi.paths['/api/v1/chat/message'].post.responses['200'].content['application/json']
          .schema;
      const metadata = ok.properties.metadata.properties;
      assert.deepEqual(metadata.web_search.enum, [
        'disabled',
        'not_needed',
        'unavailable',
        'no_results',
        'used',
      ]);
      for (const field of ['sources', 'web_sources', 'llm_provider', 'fallback_used'])
        assert.ok(metadata[field].description, field);
      assert.ok(openapi.paths['/api/v1/chat/message'].post.responses['504']);
    });
  });

  describe('failures', () => {
    it('answers 504 past LLM_TIMEOUT and keeps the session as it was', async () => {
      // The turns that must succeed go through an API with time to spare, the ones that must
      // time out through one with LLM_TIMEOUT=1 and a model that never ends its reply.
      const store = new MemorySessionStore();
      const patient = await apiOver(store, ollamaEnv());
      const hasty = await apiOver(store, ollamaEnv({ LLM_TIMEOUT: '1' }));
      try {
        assert.equal((await chat(patient.app, 'a torneira está pingando', 'slow')).status, 200);
        const token = clientOf(patient.app).tokens.get('slow');
        assert.ok(token);
        clientOf(hasty.app).tokens.set('slow', token);
        const before = await store.get('slow');
        for (const behaviour of [hang, trickle]) {
          ollama.behave(behaviour);
          const started = performance.now();
          const { status, body } = await chat(hasty.app, 'não', 'slow');
          const elapsed = performance.now() - started;
          assert.equal(status, 504);
          assert.match(body.detail, /não respondeu a tempo \(LLM_TIMEOUT\)/);
          assert.match(body.detail, /Nada foi salvo/);
          assert.ok(elapsed >= 900, `not before LLM_TIMEOUT (${elapsed} ms)`);
        }
        assert.equal(await store.get('slow'), before, 'no message, no attempt consumed');
        const fresh = await chat(hasty.app, 'a pia está entupida', 'never-answered');
        assert.equal(fresh.status, 504);
        assert.equal(await store.exists('never-answered'), false, 'nothing created');
        const failure = hasty.logs.records().find((r) => r.event_type === 'llm_failed');
        assert.equal(failure?.failure, 'timeout');
        assert.equal(failure?.level, 'WARNING');
        ollama.behave(reply(MODEL_REPLY));
        const next = await chat(patient.app, 'não', 'slow');
        assert.equal(next.status, 200);
        assert.equal(next.body.metadata.current_attempt, 2);
      } finally {
        await hasty.app.close();
        await patient.app.close();
      }
    });

    it('answers 502 for an HTTP error, malformed JSON or an empty reply, and stores nothing', async () => {
      const { app, store } = await api(ollamaEnv({ LLM_BREAKER_FAILURES: '0' }));
      try {
        const cases = [
          [json({ error: 'model "qwen2.5:3b" not found' }, 404), 'ollama respondeu com HTTP 404'],
          [json({ error: 'internal' }, 500), 'ollama respondeu com HTTP 500'],
          [raw('{"message": '), 'ollama respondeu algo malformado'],
          [json({ done: true }), 'ollama respondeu algo malformado'],
          [reply('   '), 'ollama respondeu sem texto'],
        ] as const;
        for (const [behaviour, detail] of cases) {
          ollama.behave(behaviour);
          const { status, body } = await chat(app, 'a torneira está pingando', 'broken');
          assert.equal(status, 502, detail);
          assert.equal(
            body.detail,
            `O modelo de linguagem falhou: ${detail}. Nada foi salvo desta mensagem: envie-a de novo.`,
          );
        }
        assert.equal(await store.exists('broken'), false);
      } finally {
        await app.close();
      }
    });

    it('answers 502 when the model server refuses connections', async () => {
      const { app } = await api(ollamaEnv({ OLLAMA_BASE_URL: await refusingUrl() }));
      try {
        const { status, body } = await chat(app, 'a torneira está pingando', 'refused');
        assert.equal(status, 502);
        assert.match(body.detail, /não foi possível contatar ollama/);
      } finally {
        await app.close();
      }
    });

    it('opens the circuit after LLM_BREAKER_FAILURES failures, then closes it after the cooldown', async () => {
      const { app, logs } = await api(
        ollamaEnv({ LLM_BREAKER_FAILURES: '2', LLM_BREAKER_COOLDOWN: '1' }),
      );
      try {
        ollama.behave(json({ error: 'overloaded' }, 503));
        assert.equal((await chat(app, 'a pia está entupida', 'breaker')).status, 502);
        assert.equal((await chat(app, 'a pia está entupida', 'breaker')).status, 502);
        const fast = await chat(app, 'a pia está entupida', 'breaker');
        assert.equal(fast.status, 503);
        assert.match(
          fast.body.detail,
          /fora do ar depois de falhas seguidas; tente de novo em 1 s/,
        );
        assert.equal(fast.headers['retry-after'], '1');
        assert.equal(ollama.requests.length, 2, 'the open circuit sent nothing');
        ollama.behave(reply(MODEL_REPLY));
        // Fast failures until the cooldown ends, then the trial call that closes the circuit.
        const refused: number[] = [];
        let answer: Answer | undefined;
        await until(async () => {
          answer = await chat(app, 'a pia está entupida', 'breaker');
          if (answer.status !== 200) refused.push(answer.status);
          return answer.status === 200;
        }, 'the circuit to let a trial call through after LLM_BREAKER_COOLDOWN');
        assert.ok(
          refused.every((status) => status === 503),
          `only fast failures meanwhile: ${refused}`,
        );
        assert.equal(ollama.requests.length, 3, 'the open circuit sent nothing, then one trial');
        assert.equal(answer?.body.metadata.fallback_used, false);
        const events = logs.records().map((r) => r.event_type);
        assert.ok(events.includes('llm_circuit_open'));
        assert.ok(events.includes('llm_circuit_closed'));
      } finally {
        await app.close();
      }
    });

    it('with LLM_FALLBACK=offline, answers from the knowledge base and says so', async () => {
      // A model that never answers, and a short LLM_TIMEOUT: the first turn certainly falls back.
      const { app, store, logs } = await api(
        ollamaEnv({ LLM_FALLBACK: 'offline', LLM_BREAKER_FAILURES: '1', LLM_TIMEOUT: '1' }),
      );
      try {
        ollama.behave(hang);
        const { status, body } = await chat(app, 'a torneira está pingando', 'fallback');
        assert.equal(status, 200);
        assert.match(body.response, /Torneira pingando: Trocar o courinho/);
        assert.equal(body.metadata.fallback_used, true);
        assert.equal(body.metadata.llm_provider, 'ollama');
        assert.deepEqual(body.metadata.sources, ['torneira-pingando']);
        const second = await chat(app, 'não', 'fallback');
        assert.equal(second.status, 200, 'the open circuit falls back at once');
        assert.equal(second.body.metadata.fallback_used, true);
        assert.equal(second.body.metadata.current_attempt, 2);
        assert.equal(ollama.requests.length, 1);
        assert.equal((await historyOf(store, 'fallback')).length, 4);
        assert.ok(logs.records().some((r) => r.event_type === 'llm_fallback'));
      } finally {
        await app.close();
      }
    });
  });

  it('keeps a key the model server echoes out of the answer and of every log line', async () => {
    const key = 'sk-secret-XYZ';
    const { app, logs } = await api({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: key,
      LOG_LEVEL: 'debug',
    });
    try {
      openai.behave(json({ error: { message: `Invalid API key: ${key}`, type: 'auth' } }, 401));
      const { status, body } = await chat(app, 'a torneira está pingando', 'echo');
      assert.equal(status, 502);
      assert.equal(
        body.detail,
        'O modelo de linguagem falhou: openai respondeu com HTTP 401. Nada foi salvo desta mensagem: envie-a de novo.',
      );
      assert.ok(logs.lines.length > 0);
      for (const line of logs.lines) assert.ok(!line.includes('secret-XYZ'), line);
      const failure = logs.records().find((r) => r.event_type === 'llm_failed');
      assert.equal(failure?.status, 401);
      assert.equal(failure?.upstream_reason, 'Invalid API key: ***', 'the reason, redacted');
    } finally {
      await app.close();
    }
  });

  it('talks to an OpenAI-compatible server with its key', async () => {
    const { app, logs } = await api({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: openai.url,
      OPENAI_MODEL: 'llama-3.1-8b-instruct',
      OPENAI_API_KEY: 'sk-local-test-key',
    });
    try {
      const { status, body } = await chat(app, 'a torneira está pingando', 'openai');
      assert.equal(status, 200);
      assert.equal(body.metadata.llm_provider, 'openai');
      assert.equal(openai.last.headers.authorization, 'Bearer sk-local-test-key');
      assert.equal(openai.last.body?.model, 'llama-3.1-8b-instruct');
      assert.doesNotMatch(logs.lines.join('\n'), /sk-local-test-key/, 'the key is never logged');
    } finally {
      await app.close();
    }
  });

  describe('long replies', () => {
    it('asks for at most LLM_MAX_TOKENS tokens and stores a long reply cut to 8000 characters', async () => {
      const { app, store } = await api(ollamaEnv({ LLM_MAX_TOKENS: '256' }));
      try {
        const sentence = 'Aperte a porca com cuidado. ';
        ollama.behave(reply(sentence.repeat(1000)));
        const { status, body } = await chat(app, 'a torneira está pingando', 'long');
        assert.equal(status, 200);
        assert.equal(ollama.last.body?.options?.num_predict, 256);
        const solution = body.response.slice(0, body.response.lastIndexOf('\n\n'));
        assert.ok(solution.length <= 8000 && solution.length > 7900, `${solution.length}`);
        assert.ok(solution.endsWith('Aperte a porca com cuidado.'), 'cut after a sentence');
        assert.equal((await historyOf(store, 'long'))[1]?.content, body.response);
      } finally {
        await app.close();
      }
    });

    it('answers 502, not 413, when the reply cannot be stored in the session', async () => {
      const { app, store } = await api(ollamaEnv({ SESSION_MAX_BYTES: '2048' }));
      try {
        ollama.behave(reply('Passo. '.repeat(500)));
        const { status, body } = await chat(app, 'a torneira está pingando', 'too-long');
        assert.equal(status, 502);
        assert.match(
          body.detail,
          /^O modelo de linguagem falhou: a resposta de ollama ficou grande demais/,
        );
        assert.equal(await store.exists('too-long'), false);
        ollama.behave(reply('Troque o courinho.'));
        assert.equal((await chat(app, 'a torneira está pingando', 'too-long')).status, 200);
      } finally {
        await app.close();
      }
    });
  });

  describe('KNOWLEDGE_DIR', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cql-knowledge-'));
      await writeFile(
        join(dir, 'portao-eletronico.md'),
        '# Portão eletrônico travado\n\n' +
          'Palavras-chave: portão, portão eletrônico, motor do portão, controle do portão\n' +
          'Profissional: técnico de portões\n\n' +
          '## Tentativa 1: Trocar a pilha do controle\n\n1. Abra o controle e troque a pilha.\n',
      );
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('adds its repairs to the bundled ones, for the model and for the offline responder', async () => {
      const { app } = await api(ollamaEnv({ KNOWLEDGE_DIR: dir }));
      const offline = await api({ KNOWLEDGE_DIR: dir });
      try {
        const { body } = await chat(app, 'o portão eletrônico travou', 'custom');
        assert.deepEqual(body.metadata.sources, ['portao-eletronico']);
        assert.match(
          ollama.last.body?.messages?.at(-1)?.content ?? '',
          /Trocar a pilha do controle/,
        );
        const bundled = await chat(app, 'a torneira está pingando', 'bundled');
        assert.deepEqual(bundled.body.metadata.sources, ['torneira-pingando']);
        const local = await chat(offline.app, 'o portão eletrônico travou', 'custom');
        assert.match(local.body.response, /Trocar a pilha do controle/);
      } finally {
        await app.close();
        await offline.app.close();
      }
    });

    it('stops start-up with a message naming a malformed file of KNOWLEDGE_DIR', async () => {
      const bad = await mkdtemp(join(tmpdir(), 'cql-knowledge-bad-'));
      try {
        await writeFile(join(bad, 'sem-titulo.md'), 'Palavras-chave: a, b, c\n');
        await assert.rejects(api({ KNOWLEDGE_DIR: bad }), (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(
            error.message,
            /KNOWLEDGE_DIR tem o arquivo de reparo ".*sem-titulo\.md" malformado: falta a linha de título \("# Título"\)/,
          );
          return true;
        });
      } finally {
        await rm(bad, { recursive: true, force: true });
      }
    });

    it('stops start-up with a message naming KNOWLEDGE_DIR when the folder is missing', async () => {
      await assert.rejects(api({ KNOWLEDGE_DIR: join(dir, 'missing') }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /KNOWLEDGE_DIR deve ser uma pasta legível com arquivos de reparo \*\.md \(recebido ".*missing": arquivo ou pasta inexistente\)/,
        );
        return true;
      });
    });
  });
});
