import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shutdownGraceMs } from '../src/cli/serve.js';
import { loadConfig } from '../src/config.js';
import { configProblems } from './support/fixtures.js';

const load = (env: Record<string, string>) => loadConfig({ env, envFile: false });

describe('language-model configuration', () => {
  it('has the documented defaults: offline, no network', () => {
    assert.deepEqual(
      { ...load({}).llm },
      {
        provider: 'offline',
        ollama: { baseUrl: 'http://localhost:11434', model: 'qwen2.5:3b' },
        openai: { baseUrl: 'https://api.openai.com/v1', apiKey: undefined, model: 'gpt-4o-mini' },
        timeoutMs: 60000,
        historyMessages: 12,
        maxTokens: 1024,
        ragPassages: 3,
        breakerFailures: 5,
        breakerCooldownMs: 30000,
        fallback: 'none',
        webSearchUrl: undefined,
        knowledgeDir: undefined,
      },
    );
  });

  it('reads every variable', () => {
    const { llm } = load({
      LLM_PROVIDER: 'openai',
      OLLAMA_BASE_URL: 'http://ollama.internal:11434',
      OLLAMA_MODEL: 'llama3.2:1b',
      OPENAI_BASE_URL: 'http://localhost:8000/v1',
      OPENAI_API_KEY: 'sk-abc',
      OPENAI_MODEL: 'meta-llama/Llama-3.1-8B-Instruct',
      LLM_TIMEOUT: '120',
      LLM_HISTORY_MESSAGES: '0',
      LLM_MAX_TOKENS: '32768',
      LLM_RAG_PASSAGES: '5',
      LLM_BREAKER_FAILURES: '0',
      LLM_BREAKER_COOLDOWN: '10',
      LLM_FALLBACK: 'offline',
      WEB_SEARCH_URL: 'https://searx.internal/',
      KNOWLEDGE_DIR: '/srv/manuals',
    });
    assert.equal(llm.provider, 'openai');
    assert.deepEqual(llm.ollama, { baseUrl: 'http://ollama.internal:11434', model: 'llama3.2:1b' });
    assert.deepEqual(llm.openai, {
      baseUrl: 'http://localhost:8000/v1',
      apiKey: 'sk-abc',
      model: 'meta-llama/Llama-3.1-8B-Instruct',
    });
    assert.equal(llm.timeoutMs, 120000);
    assert.equal(llm.historyMessages, 0);
    assert.equal(llm.maxTokens, 32768);
    assert.equal(llm.ragPassages, 5);
    assert.equal(llm.breakerFailures, 0);
    assert.equal(llm.breakerCooldownMs, 10000);
    assert.equal(llm.fallback, 'offline');
    assert.equal(llm.webSearchUrl, 'https://searx.internal/');
    assert.equal(llm.knowledgeDir, '/srv/manuals');
  });

  it('names the variable and the value of every bad setting', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { LLM_PROVIDER: 'gemini' },
        /LLM_PROVIDER deve ser offline, ollama ou openai \(recebido "gemini"\)/,
      ],
      [
        { OLLAMA_BASE_URL: 'localhost:11434' },
        /OLLAMA_BASE_URL deve ser um endereço http:\/\/ ou https:\/\//,
      ],
      [{ OLLAMA_BASE_URL: 'ftp://host' }, /OLLAMA_BASE_URL deve ser um endereço http/],
      [
        { OPENAI_BASE_URL: 'http://host/v1?x=1' },
        /OPENAI_BASE_URL deve ser um endereço http.* sem \?parâmetros nem #fragmento/,
      ],
      [{ WEB_SEARCH_URL: 'searx' }, /WEB_SEARCH_URL deve ser um endereço http/],
      [
        { OLLAMA_MODEL: 'qwen 2.5' },
        /OLLAMA_MODEL deve ser um nome de modelo sem espaços, como qwen2.5:3b/,
      ],
      [{ LLM_TIMEOUT: '0' }, /LLM_TIMEOUT deve ser um número inteiro de 1 a 3600 \(recebido "0"\)/],
      [{ LLM_TIMEOUT: '1.5' }, /LLM_TIMEOUT deve ser um número inteiro/],
      [{ LLM_TIMEOUT: '3601' }, /LLM_TIMEOUT deve ser um número inteiro de 1 a 3600/],
      [
        { LLM_HISTORY_MESSAGES: '-1' },
        /LLM_HISTORY_MESSAGES deve ser um número inteiro de 0 a 1000/,
      ],
      [{ LLM_RAG_PASSAGES: '0' }, /LLM_RAG_PASSAGES deve ser um número inteiro de 1 a 20/],
      [
        { LLM_MAX_TOKENS: '15' },
        /LLM_MAX_TOKENS deve ser um número inteiro de 16 a 32768 \(recebido "15"\)/,
      ],
      [{ LLM_MAX_TOKENS: '32769' }, /LLM_MAX_TOKENS deve ser um número inteiro de 16 a 32768/],
      [{ LLM_MAX_TOKENS: 'lots' }, /LLM_MAX_TOKENS deve ser um número inteiro/],
      [{ LLM_BREAKER_FAILURES: 'many' }, /LLM_BREAKER_FAILURES deve ser um número inteiro/],
      [
        { LLM_BREAKER_COOLDOWN: '0' },
        /LLM_BREAKER_COOLDOWN deve ser um número inteiro de 1 a 86400/,
      ],
      [{ LLM_FALLBACK: 'yes' }, /LLM_FALLBACK deve ser none ou offline \(recebido "yes"\)/],
    ];
    for (const [env, expected] of cases) assert.match(configProblems(env), expected);
  });

  it('needs an API key for OpenAI itself, not for a local OpenAI-compatible server', () => {
    assert.match(
      configProblems({ LLM_PROVIDER: 'openai' }),
      /OPENAI_API_KEY é obrigatória com LLM_PROVIDER=openai em api\.openai\.com/,
    );
    assert.equal(
      load({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://localhost:1234/v1' }).llm.openai
        .apiKey,
      undefined,
    );
  });

  it('never shows the API key or URL credentials', () => {
    const config = load({
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-very-secret',
      OLLAMA_BASE_URL: 'http://user:hunter2@ollama.internal:11434',
      WEB_SEARCH_URL: 'http://user:hunter3@searx.internal',
    });
    const shown = `${config} ${JSON.stringify(config)}`;
    assert.doesNotMatch(shown, /sk-very-secret|hunter2|hunter3/);
    assert.match(shown, /"apiKey":"\*\*\*"/);
    assert.equal(config.llm.openai.apiKey, 'sk-very-secret', 'the value itself is kept');
    assert.doesNotMatch(
      configProblems({ OPENAI_API_KEY: 'sk secret with spaces' }),
      /secret with/,
      'nor in an error',
    );
    assert.doesNotMatch(configProblems({ OLLAMA_BASE_URL: 'ftp://user:hunter2@host' }), /hunter2/);
  });

  it('names a refused address without its user name, query or fragment', () => {
    for (const [variable, value, secret, kept] of [
      [
        'OPENAI_BASE_URL',
        'https://llm.internal/v1?api_key=sk-live-123',
        /sk-live-123/,
        'llm.internal/v1',
      ],
      ['OPENAI_BASE_URL', 'https://llm.internal/v1#sk-live-456', /sk-live-456/, 'llm.internal/v1'],
      ['OLLAMA_BASE_URL', 'ftp://token-abc@ollama.internal', /token-abc/, '@ollama.internal'],
      ['WEB_SEARCH_URL', 'alice:pw9@searx.internal?key=k1', /alice|pw9|k1/, '@searx.internal'],
      // Passwords with "#" or "?" in them: the URL parser takes the rest for a fragment or query.
      [
        'OLLAMA_BASE_URL',
        'http://admin:s3cr#t@ollama.internal:11434',
        /admin|s3cr/,
        '@ollama.internal',
      ],
      ['OPENAI_BASE_URL', 'https://admin:s3cr?t@llm.internal/v1', /admin|s3cr/, '@llm.internal'],
      ['OLLAMA_BASE_URL', 'http://ollama:1234#5678@host', /1234|5678/, '***@host'],
    ] as const) {
      const problems = configProblems({ LLM_PROVIDER: 'ollama', [variable]: value });
      assert.match(problems, new RegExp(variable), value);
      assert.doesNotMatch(problems, secret, value);
      assert.ok(problems.includes(kept), `${value}: ${problems}`);
    }
  });

  it('shows the model and search addresses without user names, passwords or tokens', () => {
    const config = load({
      OLLAMA_BASE_URL: 'http://ollama-user:pw1@ollama.internal:11434',
      OPENAI_BASE_URL: 'https://token-abc123@llm.internal/v1',
      WEB_SEARCH_URL: 'http://searx-user:pw2@searx.internal',
    });
    const { llm } = JSON.parse(String(config)) as {
      llm: { ollama: { baseUrl: string }; openai: { baseUrl: string }; webSearchUrl: string };
    };
    assert.equal(llm.ollama.baseUrl, 'http://***@ollama.internal:11434/');
    assert.equal(llm.openai.baseUrl, 'https://***@llm.internal/v1');
    assert.equal(llm.webSearchUrl, 'http://***@searx.internal/');
    assert.doesNotMatch(String(config), /ollama-user|token-abc123|searx-user|pw1|pw2/);
  });

  it('gives turns in flight LLM_TIMEOUT plus 10 s at shutdown', () => {
    assert.equal(shutdownGraceMs(load({})), 10000, 'no model: 10 s');
    assert.equal(shutdownGraceMs(load({ LLM_PROVIDER: 'ollama' })), 70000);
    assert.equal(shutdownGraceMs(load({ LLM_PROVIDER: 'ollama', LLM_TIMEOUT: '120' })), 130000);
  });

  it('is frozen', () => {
    const { llm } = load({});
    assert.throws(() => {
      (llm as { timeoutMs: number }).timeoutMs = 1;
    }, TypeError);
    assert.throws(() => {
      (llm.ollama as { model: string }).model = 'x';
    }, TypeError);
  });
});
