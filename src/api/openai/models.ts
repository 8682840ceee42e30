/**
 * The agent as OpenAI "models": one id for each choice of knowledge base and web search, as the
 * original Open WebUI pipe offered them. The pipe's own ids are accepted as aliases.
 */

export interface AgentModel {
  /** The id listed by GET /v1/models and echoed in every answer. */
  readonly id: string;
  /** The original pipe's id for the same choice, accepted in requests. */
  readonly alias: string;
  readonly useRag: boolean;
  readonly useWebSearch: boolean;
}

export const AGENT_MODELS: readonly AgentModel[] = Object.freeze([
  { id: 'cql-agent', alias: 'repair-agent-rag-web', useRag: true, useWebSearch: true },
  { id: 'cql-agent-rag', alias: 'repair-agent-rag', useRag: true, useWebSearch: false },
  { id: 'cql-agent-base', alias: 'repair-agent-base', useRag: false, useWebSearch: false },
]);

/** Who the models are listed as belonging to (`owned_by`). */
export const MODEL_OWNER = 'cql-agent';

/** The model a request names, by id or alias; undefined for any other name. */
export function findModel(name: string): AgentModel | undefined {
  return AGENT_MODELS.find((model) => model.id === name || model.alias === name);
}
