/**
 * Every sentence a person reads from the HTTP API (the `detail` of an error, the answer to a
 * reset), in Portuguese (pt-BR) like the agent itself. Routes and the error mapping take their
 * words from here; log messages and field names stay in the code.
 */

/** The `error` of a validation failure (422), as the original API answered. */
export const INVALID_DATA = 'Dados inválidos';

/** How a field is named in a sentence, with its article. */
const FIELD_NAMES: Record<string, string> = {
  message: 'A mensagem',
  session_id: 'O identificador da sessão (session_id)',
  use_rag: 'O campo use_rag',
  use_web_search: 'O campo use_web_search',
  limit: 'O parâmetro limit',
  cursor: 'O parâmetro cursor',
  body: 'O corpo da requisição',
};

export function fieldName(field: string): string {
  return FIELD_NAMES[field] ?? `O campo ${field}`;
}

/** What a JSON type is called in a sentence. */
const TYPE_NAMES: Record<string, string> = {
  string: 'um texto',
  boolean: 'true ou false',
  number: 'um número',
  int: 'um número inteiro',
  object: 'um objeto JSON',
  array: 'uma lista',
};

/** Sentences for each validation rule, naming the field and the rule. */
export const validation = {
  tooLong: (field: string, max: number) =>
    `${fieldName(field)} deve ter no máximo ${max} caracteres.`,
  tooShort: (field: string, min: number) =>
    `${fieldName(field)} deve ter pelo menos ${min} ${min === 1 ? 'caractere' : 'caracteres'}.`,
  blank: (field: string) => `${fieldName(field)} não pode ficar em branco.`,
  nulCharacter: 'A mensagem não pode conter o caractere nulo (\\u0000).',
  noLetterOrDigit: 'A mensagem deve conter pelo menos uma letra ou um número.',
  sessionIdPattern:
    'O identificador da sessão (session_id) deve ter de 1 a 128 caracteres, só letras sem acento, números, "_" ou "-".',
  tooBig: (field: string, max: number) => `${fieldName(field)} deve ser no máximo ${max}.`,
  tooSmall: (field: string, min: number) => `${fieldName(field)} deve ser pelo menos ${min}.`,
  required: (field: string) => `O campo "${field}" é obrigatório.`,
  wrongType: (field: string, expected: string | undefined) =>
    `${fieldName(field)} deve ser ${TYPE_NAMES[expected ?? ''] ?? `do tipo ${expected ?? 'esperado'}`}.`,
  unknownField: (field: string) => `O campo "${field}" não é aceito aqui.`,
  notAllowed: (field: string) => `${fieldName(field)} tem um valor que não é aceito.`,
  invalid: (field: string) => `${fieldName(field)} é inválido.`,
  malformedJson: (position: number | undefined) =>
    `O corpo da requisição não é um JSON válido${position === undefined ? '' : ` (erro perto do caractere ${position})`}. Verifique os campos e tente novamente.`,
  emptyBody: 'O corpo da requisição está vazio: envie um objeto JSON.',
  forbiddenKey: (key: string) =>
    `A chave "${key}" não é permitida no corpo da requisição: remova-a e tente novamente.`,
} as const;

export const errors = {
  sessionNotFound: (id: string) =>
    `Sessão "${id}" não encontrada: ela pode ter expirado. Comece uma nova conversa.`,
  sessionTooLarge:
    'Esta conversa ficou grande demais para ser guardada. Comece um novo problema (reset) para continuar.',
  sessionConflict:
    'Esta conversa está sendo alterada por outra requisição neste momento. Tente de novo.',
  storeUnavailable:
    'O armazenamento das conversas está indisponível no momento. Tente de novo em instantes.',
  bodyTooLarge: (kib: number) => `O corpo da requisição passa de ${kib} KiB.`,
  unsupportedMediaType: 'Envie o corpo como application/json.',
  malformedUrl: 'Endereço (URL) malformado.',
  paramTooLong: (max: number) => `Um parâmetro do endereço passa de ${max} caracteres.`,
  noRoute: (method: string, path: string) => `Não existe a rota ${method} ${path}.`,
  internal: 'Erro interno do servidor. Tente de novo; se continuar, avise o responsável.',
  badRequest: 'Requisição inválida.',
  rateLimited: (max: number, seconds: number) =>
    `Muitas mensagens: no máximo ${max} por minuto. Tente de novo em ${seconds} ${seconds === 1 ? 'segundo' : 'segundos'}.`,
  adminKeyRequired:
    'As rotas de administração exigem o cabeçalho Authorization: Bearer <chave de administração> (ADMIN_API_KEY, ou a chave do arquivo ADMIN_API_KEY_FILE).',
  metricsKeyRequired:
    'As métricas exigem o cabeçalho Authorization: Bearer <chave> (METRICS_API_KEY ou a chave de administração).',
  sessionTokenRequired: (id: string) =>
    `A sessão "${id}" já existe e pertence a outra conversa. Envie o cabeçalho X-Session-Token com o token recebido quando ela foi criada (campo session_token), ou comece uma conversa nova sem session_id. Clientes que não guardam o token precisam que o servidor use SESSION_ACCESS=id.`,
} as const;

/** A language model that failed; nothing of the message was saved. */
export const model = {
  notSaved: 'Nada foi salvo desta mensagem: envie-a de novo.',
  timeout: (service: string) =>
    `O modelo de linguagem (${service}) não respondeu a tempo (LLM_TIMEOUT).`,
  unavailable: (service: string, seconds: number) =>
    `O modelo de linguagem (${service}) está fora do ar depois de falhas seguidas; tente de novo em ${seconds} s.`,
  failed: (what: string) => `O modelo de linguagem falhou: ${what}.`,
  http: (service: string, status: number | string) => `${service} respondeu com HTTP ${status}`,
  unreachable: (service: string) => `não foi possível contatar ${service}`,
  malformed: (service: string) => `${service} respondeu algo malformado`,
  empty: (service: string) => `${service} respondeu sem texto`,
  tooLarge: (service: string) => `a resposta de ${service} ficou grande demais para ser guardada`,
  other: (service: string) => `${service} falhou`,
} as const;

export const replies = {
  reset: (id: string) => `Sessão ${id} resetada com sucesso`,
} as const;

export const service = {
  description: 'CQL Agent: assistente de reparos domésticos',
} as const;
