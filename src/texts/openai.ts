/**
 * Sentences a person reads from the OpenAI-compatible endpoint (/v1) beyond those of api.ts: its
 * refusals, and the short answers to a chat client's background tasks (titles, tags), in
 * Portuguese (pt-BR). Everything else (validation, the model's failures) comes from api.ts.
 */

export const openaiErrors = {
  apiKeyRequired:
    'Envie uma chave válida do endpoint compatível com OpenAI no cabeçalho Authorization: Bearer <chave> (uma das chaves de OPENAI_COMPAT_API_KEYS).',
  modelNotFound: (model: string, available: readonly string[]) =>
    `O modelo "${model}" não existe neste serviço. Modelos disponíveis: ${available.join(', ')}.`,
  noUserMessage:
    'A lista messages precisa de pelo menos uma mensagem com role "user": a última delas é a mensagem respondida.',
  noText: (index: number) =>
    `A mensagem ${index + 1} da lista messages não tem texto: envie o conteúdo como texto (content) ou como partes do tipo "text".`,
  onlyOneChoice: 'O campo n só aceita 1: este serviço gera uma resposta por requisição.',
  sessionForbidden:
    'Esta conversa pertence a outro cliente e não pode ser continuada com esta chave. Comece uma conversa nova.',
  sessionTooLarge:
    'Esta conversa ficou grande demais para ser guardada. Comece uma conversa nova para continuar.',
  bodyTooLarge: (kib: number) =>
    `O corpo da requisição passa de ${kib} KiB. Comece uma conversa nova ou envie menos mensagens.`,
} as const;

/** What a background task of a chat client (Open WebUI's titles, tags) is answered with. */
export const taskReplies = {
  /** The title of a conversation whose first message could not be read. */
  defaultTitle: 'Reparo doméstico',
  tags: ['Casa', 'Reparos domésticos'],
  /** For a task this service does not know: the agent answers only repair conversations. */
  other: 'Este assistente responde apenas conversas sobre reparos domésticos.',
} as const;
