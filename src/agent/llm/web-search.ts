/** Web search through a SearxNG instance's JSON API (`GET /search?q=...&format=json`). */
import { z } from 'zod';
import { UpstreamError } from './errors.js';
import { requestJson } from './http.js';
import { callTimeout, endpoint } from './model.js';

export interface WebResult {
  readonly title: string;
  readonly url: string;
  /** The search engine's excerpt of the page (may be empty). */
  readonly content: string;
}

export interface SearchOptions {
  /** A shorter deadline than the service's own for this search (what is left of a turn's
   * time). */
  readonly timeoutMs?: number;
  /** Aborting it cancels the search, which then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Finds pages about a problem. Throws UpstreamError when the search service fails. */
export interface WebSearch {
  search(query: string, options?: SearchOptions): Promise<WebResult[]>;
}

export interface SearxngOptions {
  /** Address of the instance, e.g. "http://localhost:8080". Its settings.yml must list `json`
   * under `search.formats`, or it answers 403. */
  baseUrl: string;
  /** @default 10000 */
  timeoutMs?: number;
  /** Results kept, best first. @default 3 */
  limit?: number;
  /** @default "pt-BR" */
  language?: string;
}

/** Longest excerpt of a page given to the model. */
const MAX_CONTENT_LENGTH = 500;
/** Longest query sent (a description given in several messages can be long). */
const MAX_QUERY_LENGTH = 300;

const searxngAnswer = z.object({
  results: z.array(
    z.object({
      url: z.string(),
      title: z.string().optional(),
      content: z.string().nullish(),
    }),
  ),
});

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

export class SearxngSearch implements WebSearch {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #limit: number;
  readonly #language: string;

  constructor(options: SearxngOptions) {
    this.#url = endpoint(options.baseUrl, 'search');
    this.#timeoutMs = options.timeoutMs ?? 10000;
    this.#limit = options.limit ?? 3;
    this.#language = options.language ?? 'pt-BR';
  }

  async search(query: string, options?: SearchOptions): Promise<WebResult[]> {
    const params = new URLSearchParams({
      q: oneLine(query).slice(0, MAX_QUERY_LENGTH),
      format: 'json',
      language: this.#language,
      safesearch: '1',
    });
    let answer: unknown;
    try {
      answer = await requestJson(`${this.#url}?${params}`, {
        service: 'searxng',
        timeoutMs: callTimeout(this.#timeoutMs, options),
        signal: options?.signal,
      });
    } catch (error) {
      if (error instanceof UpstreamError && error.status === 403) {
        throw new UpstreamError(
          'http',
          'searxng',
          'HTTP 403: enable the json format in the instance settings (search.formats)',
          { status: 403, url: error.url, upstreamReason: error.upstreamReason },
        );
      }
      throw error;
    }
    const parsed = searxngAnswer.safeParse(answer);
    if (!parsed.success) {
      throw new UpstreamError('malformed', 'searxng', 'answered without a results list');
    }
    return parsed.data.results
      .filter((result) => /^https?:\/\//i.test(result.url))
      .slice(0, this.#limit)
      .map((result) => ({
        title: oneLine(result.title ?? result.url),
        url: result.url,
        content: oneLine(result.content ?? '').slice(0, MAX_CONTENT_LENGTH),
      }));
  }
}
