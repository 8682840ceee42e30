/** Schemas shared by several route groups. */
import { z } from 'zod';
import { AGENT_STATES } from '../agent/types.js';
import { SESSION_ID_PATTERN } from '../sessions/session-id.js';

export const sessionId = z
  .string()
  .regex(SESSION_ID_PATTERN, 'must be 1-128 characters of letters, digits, "_" or "-"')
  .describe('Session id: 1-128 characters of [A-Za-z0-9_-]');

export const sessionParams = z.strictObject({ session_id: sessionId });

export const agentState = z.enum(AGENT_STATES);

export const detail = z.union([
  z.string(),
  z.object({
    error: z.string(),
    details: z.array(z.object({ field: z.string(), message: z.string() })),
  }),
]);

/** The error body every route may answer with. */
export const errorBody = z.object({ detail }).describe('Error');
