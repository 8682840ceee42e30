/**
 * Time to first byte and total time of a streamed turn through the OpenAI-compatible endpoint
 * (POST /v1/chat/completions, `stream: true`), next to the same model server called directly,
 * interleaved in one run. The model server is a fake Ollama started here that writes a token
 * every 20 ms; the service is one `cql-agent serve` process with LLM_PROVIDER=ollama. Each turn
 * opens a new conversation (a new `user`), so every sample does the same work: session load,
 * knowledge-base search, prompt, the model's stream relayed piece by piece, one save.
 * Run with `npx tsx bench/stream.bench.ts` (BENCH_SAMPLES, BENCH_TOKENS to change the run).
 */
import { cpus } from 'node:os';
import { startApiProcess } from '../test/support/api-process.js';
import { FakeServer, streamed } from '../test/support/fake-llm.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 20);
const TOKEN_PAUSE_MS = 20;
const KEY = 'bench-openai-compat-key';
const OPENING = 'a torneira da cozinha está pingando';

interface Sample {
  /** Milliseconds from sending the request to the first byte of the body. */
  ttfb: number;
  /** ... to the end of the body. */
  total: number;
}

/** Sends one request and reads its streamed body to the end, timing both. */
async function timed(url: string, init: RequestInit, check: (body: string) => void) {
  const start = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - start) / 1e6;
  const response = await fetch(url, init);
  if (!response.ok || response.body === null) {
    throw new Error(`${url} answered HTTP ${response.status}: ${await response.text()}`);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let ttfb: number | undefined;
  let body = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    ttfb ??= since();
    body += decoder.decode(value, { stream: true });
  }
  const total = since();
  check(body);
  return { ttfb: ttfb ?? total, total };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main() {
  const words = Array.from({ length: TOKENS }, (_, i) => `passo${i + 1} `);
  const upstream = await FakeServer.start('ollama');
  upstream.behave(streamed({ tokens: words, pauseMs: TOKEN_PAUSE_MS }));
  const service = await startApiProcess(
    {
      LLM_PROVIDER: 'ollama',
      OLLAMA_BASE_URL: upstream.url,
      OPENAI_COMPAT_API_KEYS: KEY,
      ADMIN_API_KEY: 'bench-admin-key-long-enough',
      LOG_LEVEL: 'warning',
    },
    { quiet: true },
  );
  let turns = 0;
  const direct = () =>
    timed(
      `${upstream.url}/api/chat`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'qwen2.5:3b',
          stream: true,
          messages: [{ role: 'user', content: OPENING }],
        }),
      },
      (body) => {
        if (!body.includes('"done":true')) throw new Error('the model stream did not finish');
      },
    );
  const throughService = () =>
    timed(
      `${service.base}/v1/chat/completions`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'cql-agent',
          stream: true,
          user: `bench-${turns++}`,
          messages: [{ role: 'user', content: OPENING }],
        }),
      },
      (body) => {
        if (!body.endsWith('data: [DONE]\n\n') || !body.includes(`passo${TOKENS}`)) {
          throw new Error(`the service's stream did not finish: ${body.slice(-300)}`);
        }
      },
    );

  const rows = [
    { name: 'Ollama directly', run: direct, samples: [] as Sample[] },
    { name: 'through /v1/chat/completions', run: throughService, samples: [] as Sample[] },
  ];
  try {
    const warmup = Math.max(2, Math.ceil(SAMPLES / 10));
    for (let i = 0; i < SAMPLES + warmup; i++) {
      // Alternating which goes first, so that the machine's noise hits both alike.
      for (let j = 0; j < rows.length; j++) {
        const row = rows[(i + j) % rows.length];
        if (row === undefined) continue;
        const sample = await row.run();
        if (i >= warmup) row.samples.push(sample);
      }
    }
  } finally {
    await service.stop();
    await upstream.close();
  }

  console.log(
    `Streamed turn: ${TOKENS} tokens, one every ${TOKEN_PAUSE_MS} ms; ${SAMPLES} samples each, ` +
      `interleaved; Node ${process.versions.node}, ${cpus().length} cores\n`,
  );
  console.log('| path | TTFB p50 | TTFB p95 | total p50 | total p95 |');
  console.log('|---|---|---|---|---|');
  const stats = rows.map(({ name, samples }) => {
    const ttfb = samples.map((s) => s.ttfb);
    const total = samples.map((s) => s.total);
    const row = {
      name,
      ttfb50: percentile(ttfb, 50),
      ttfb95: percentile(ttfb, 95),
      total50: percentile(total, 50),
      total95: percentile(total, 95),
    };
    console.log(
      `| ${name} | ${ms(row.ttfb50)} | ${ms(row.ttfb95)} | ${ms(row.total50)} | ${ms(row.total95)} |`,
    );
    return row;
  });
  const [base, served] = stats;
  if (base && served) {
    console.log(
      `| overhead of the service | +${ms(served.ttfb50 - base.ttfb50)} | ` +
        `+${ms(served.ttfb95 - base.ttfb95)} | +${ms(served.total50 - base.total50)} | ` +
        `+${ms(served.total95 - base.total95)} |`,
    );
  }
}

await main();
