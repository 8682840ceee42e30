/**
 * OpenAI's chat-completions request and answers, as far as this service reads and writes them.
 * The request accepts every field OpenAI defines (those that do not apply are ignored, not
 * refused), and checks the types of the ones chat clients commonly send.
 */
import { z } from 'zod';
import { openaiErrors } from '../../texts/openai.js';
import { agentState } from '../schemas.js';

/** Longest message list accepted (the body limit bounds it too). */
export const MAX_MESSAGES = 2000;

/** One part of a message's content: text parts are read, the others (images...) ignored. */
const contentPart = z.object({ type: z.string(), text: z.string().optional() }).loose();

export const chatMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  })
  .loose();

export type ChatMessageInput = z.output<typeof chatMessage>;

export const completionRequest = z
  .object({
    model: z.string().min(1).max(256).describe('cql-agent, cql-agent-rag or cql-agent-base'),
    messages: z
      .array(chatMessage)
      .min(1)
      .max(MAX_MESSAGES)
      .describe(
        'The conversation as the client keeps it: only the last user message is read as the ' +
          'turn; the earlier ones come from the session the conversation maps to',
      ),
    stream: z.boolean().nullable().optional(),
    stream_options: z
      .object({ include_usage: z.boolean().optional() })
      .loose()
      .nullable()
      .optional(),
    temperature: z.number().min(0).max(2).nullable().optional().describe('Ignored'),
    top_p: z.number().min(0).max(1).nullable().optional().describe('Ignored'),
    max_tokens: z.int().min(1).nullable().optional().describe('Ignored'),
    max_completion_tokens: z.int().min(1).nullable().optional().describe('Ignored'),
    n: z
      .int()
      .refine((n) => n === 1, openaiErrors.onlyOneChoice)
      .nullable()
      .optional(),
    user: z
      .string()
      .max(256)
      .optional()
      .describe('Who is talking: conversations of different users never share a session'),
    metadata: z
      .object({
        session_id: z
          .string()
          .min(1)
          .max(512)
          .optional()
          .describe('Names the conversation: the same value continues the same session'),
      })
      .loose()
      .nullable()
      .optional(),
  })
  .loose();

export type CompletionRequest = z.output<typeof completionRequest>;

/** Where the conversation stands after the turn (not part of OpenAI's format; clients ignore
 * it). */
export const agentInfo = z
  .object({
    session_id: z.string(),
    state: agentState,
    current_attempt: z.int(),
    max_attempts: z.int(),
    sources: z.array(z.string()).describe('Knowledge-base documents the reply was based on'),
  })
  .describe("The agent's state after this turn; absent for a chat client's background task");

export type AgentInfo = z.output<typeof agentInfo>;

export const completionResponse = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int(),
      message: z.object({
        role: z.literal('assistant'),
        content: z.string(),
        refusal: z.null(),
      }),
      logprobs: z.null(),
      finish_reason: z.literal('stop'),
    }),
  ),
  agent: agentInfo.optional(),
});

export const modelObject = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.int(),
  owned_by: z.string(),
});

export const modelList = z.object({ object: z.literal('list'), data: z.array(modelObject) });

export const modelParams = z.object({ model: z.string().max(256) });

export const openAiErrorBody = z
  .object({
    error: z.object({
      message: z.string().describe('What went wrong, for a person (pt-BR)'),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .describe('Error, in OpenAI’s shape');
