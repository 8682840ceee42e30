/** Public API of the CQL Agent session system. */

export { classifyFeedback, type Feedback } from './agent/feedback.js';
export { type KnowledgeDoc, loadKnowledge, loadKnowledgeBase } from './agent/knowledge.js';
export { KnowledgeIndex, type Passage } from './agent/knowledge-index.js';
export { CircuitBreaker } from './agent/llm/breaker.js';
export { createResponder } from './agent/llm/create-responder.js';
export { UpstreamError, type UpstreamFailure } from './agent/llm/errors.js';
export { LlmResponder, type LlmResponderOptions } from './agent/llm/llm-responder.js';
export type {
  ChatModel,
  CompleteOptions,
  LlmMessage,
  ModelReply,
  StreamOptions,
} from './agent/llm/model.js';
export { OllamaChatModel } from './agent/llm/ollama.js';
export { OpenAiChatModel } from './agent/llm/openai.js';
export { SearxngSearch, type WebResult, type WebSearch } from './agent/llm/web-search.js';
export { OfflineResponder } from './agent/offline-responder.js';
export { relevanceScore } from './agent/relevance.js';
export {
  RepairAgent,
  type RepairAgentOptions,
  type RespondOptions,
} from './agent/repair-agent.js';
export { ReplyMismatchError } from './agent/reply-writer.js';
export type {
  AgentSnapshot,
  AgentState,
  ChatMessage,
  DeltaInfo,
  DeltaListener,
  Responder,
  SolutionReply,
  SolutionRequest,
  SolveOptions,
  TurnResult,
  WebSearchStatus,
} from './agent/types.js';
export { type App, type AppOptions, createApp } from './app.js';
export {
  type Config,
  ConfigError,
  type EncryptionKey,
  loadConfig,
  type RedisNode,
  redactRedisUrl,
} from './config.js';
export { createLogger, type Logger } from './logger.js';
export {
  newSessionToken,
  SESSION_ACCESS_MODES,
  type SessionAccess,
  tokenSha256,
} from './sessions/access.js';
export { cipherFor, type Sealed, SessionCipher } from './sessions/cipher.js';
export {
  decodeSession,
  encodeSession,
  SCHEMA_VERSION,
  type SessionRecord,
} from './sessions/codec.js';
export {
  InvalidSessionIdError,
  SessionAccessDeniedError,
  SessionConflictError,
  SessionCorruptError,
  SessionError,
  SessionNotFoundError,
  SessionTooLargeError,
  StoreFullError,
  StoreUnavailableError,
} from './sessions/errors.js';
export {
  type AgentOptions,
  type Caller,
  type SessionHistory,
  SessionManager,
  type SessionManagerOptions,
  type SessionPage,
  type SessionSummary,
  type TurnOptions,
  type TurnOutcome,
} from './sessions/manager.js';
export { isValidSessionId, SESSION_ID_PATTERN } from './sessions/session-id.js';
export { MemorySessionStore, type MemoryStoreOptions } from './sessions/stores/memory.js';
export { RedisSessionStore, type RedisStoreOptions } from './sessions/stores/redis.js';
export type {
  ListOptions,
  ListPage,
  QuarantineResult,
  SessionStore,
  StoreDegradedReason,
  StoredEntry,
  StoreStatus,
} from './sessions/types.js';
