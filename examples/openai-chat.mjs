/**
 * A terminal chat with the repair agent through its OpenAI-compatible endpoint, with the official
 * `openai` package: each line typed is a message, the reply is printed as it streams. Type `novo`
 * to start a new conversation and `sair` (or end the input) to leave.
 *
 *   CQL_API_KEY=<one of OPENAI_COMPAT_API_KEYS> node examples/openai-chat.mjs
 *
 * CQL_BASE_URL (default http://localhost:5000/v1), CQL_MODEL (cql-agent, cql-agent-rag or
 * cql-agent-base) and CQL_USER (default: this machine's user name) change the defaults.
 */
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';

const apiKey = process.env.CQL_API_KEY;
if (!apiKey) {
  console.error('Defina CQL_API_KEY com uma das chaves de OPENAI_COMPAT_API_KEYS do serviço.');
  process.exit(1);
}
const client = new OpenAI({
  apiKey,
  baseURL: process.env.CQL_BASE_URL ?? 'http://localhost:5000/v1',
});
const model = process.env.CQL_MODEL ?? 'cql-agent';
// Who is talking. The service keys a conversation by the key, this `user` and the first message:
// without a `user` (or metadata.session_id), two people who open with the same words under one
// key would share a conversation.
const user = process.env.CQL_USER ?? userInfo().username;

/** The conversation as the client keeps it: the service reads only its last user message. */
let messages = [];
const lines = createInterface({ input: process.stdin });
process.stdout.write('você> ');
for await (const line of lines) {
  const text = line.trim();
  if (text === 'sair') break;
  if (text === 'novo') {
    // A list with a single user message starts the conversation over.
    messages = [];
  } else if (text !== '') {
    messages.push({ role: 'user', content: text });
    try {
      const stream = await client.chat.completions.create({ model, messages, user, stream: true });
      let reply = '';
      process.stdout.write('agente> ');
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta.content ?? '';
        reply += piece;
        process.stdout.write(piece);
      }
      process.stdout.write('\n');
      messages.push({ role: 'assistant', content: reply });
    } catch (error) {
      // The service's message says what went wrong, in Portuguese; the message was not saved.
      console.error(`\nerro> ${error instanceof OpenAI.APIError ? error.message : error}`);
      messages.pop();
    }
  }
  process.stdout.write('você> ');
}
process.stdout.write('\n');
