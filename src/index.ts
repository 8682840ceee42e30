/** Public API of the CQL Agent session system. */

export { classifyFeedback, type Feedback } from './agent/feedback.js';
export { type KnowledgeDoc, loadKnowledge, loadKnowledgeBase } from './agent/knowledge.js';
export { KnowledgeIndex, type Passage } from './agent/knowledge-index.js';
export { CircuitBreaker } from './agent/llm/breaker.js';
export { createResponder } from './agent/llm/create-responder.js';
export { UpstreamError, type UpstreamFailure } from './agent/llm/errors.js';
export { LlmResponder, type LlmResponderOptions } from './agent/llm/llm-responder.js';
export type { ChatModel, CompleteOptions, LlmMessage, ModelReply } from './agent/llm/model.js';
export { OllamaChatModel } from './agent/llm/ollama.js';
export { OpenAiChatModel } from './agent/llm/openai.js';
export { SearxngSearch, type WebResult, type WebSearch } from './agent/llm/web-search.js';
export { OfflineResponder } from './agent/offline-responder.js';
export { RepairAgent, type RepairAgentOptions } from './agent/repair-agent.js';
export type {
  AgentSnapshot,
  AgentState,
  ChatMessage,
  Responder,
  SolutionReply,
  SolutionRequest,
  TurnResult,
  WebSearchStatus,
} from './agent/types.js';
export {
  type Config,
  ConfigError,
  type EncryptionKey,
  loadConfig,
  type RedisNode,
  redactRedisUrl,
} from './config.js';
export { createLogger, type Logger } from './logger.js';
export { cipherFor, type Sealed, SessionCipher } from './sessions/cipher.js';
export {
  decodeSession,
  encodeSession,
  SCHEMA_VERSION,
  type SessionRecord,
} from './sessions/codec.js';
export {
  InvalidSessionIdError,
  SessionCorruptError,
  SessionError,
  SessionNotFoundError,
  SessionTooLargeError,
  StoreUnavailableError,
} from './sessions/errors.js';
export {
  type AgentOptions,
  SessionManager,
  type SessionManagerOptions,
  type SessionSummary,
} from './sessions/manager.js';
export { isValidSessionId, SESSION_ID_PATTERN } from './sessions/session-id.js';
export { MemorySessionStore, type MemoryStoreOptions } from './sessions/stores/memory.js';
export { RedisSessionStore, type RedisStoreOptions } from './sessions/stores/redis.js';
export type { ListOptions, ListPage, SessionStore, StoredEntry } from './sessions/types.js';
