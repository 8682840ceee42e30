/** Schemas shared by several route groups. */
import { z } from 'zod';
import { AGENT_STATES } from '../agent/types.js';
import { SESSION_ID_PATTERN } from '../sessions/session-id.js';
import { validation } from '../texts/api.js';

export const sessionId = z
  .string()
  .regex(SESSION_ID_PATTERN, validation.sessionIdPattern)
  .describe('Session id: 1-128 characters of [A-Za-z0-9_-]');

export const sessionParams = z.strictObject({ session_id: sessionId });

export const agentState = z.enum(AGENT_STATES);

/** The error body every route may answer with: `detail` is a sentence in Portuguese; validation
 * errors (422) add the original API's `error` and `errors`. */
export const errorBody = z
  .object({
    detail: z.string().describe('What went wrong, for a person (pt-BR)'),
    error: z.string().optional().describe('"Dados inválidos" on validation errors (422)'),
    errors: z
      .array(
        z.object({
          field: z.string(),
          message: z.string(),
          type: z.string().describe('Machine-readable rule, e.g. string_too_long, missing'),
        }),
      )
      .optional(),
  })
  .describe('Error');
