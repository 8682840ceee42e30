/**
 * Every sentence a person reads about the configuration (the environment, the `.env` file and
 * the files it names), in Portuguese (pt-BR). A problem names the variable first, then the rule,
 * then the value received; names of variables, commands and literal values stay as they are.
 */
import { quote, systemReason } from './cli.js';

/** The first line of a ConfigError's message, above the list of problems. */
export const CONFIG_ERROR_TITLE = 'Configuração inválida:';

/** `a, b ou c`: the values a variable accepts. */
const either = (values: readonly string[]) =>
  values.length < 2 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} ou ${values.at(-1)}`;

/**
 * One bad value: `VARIABLE <rule> (recebido "value")`. The value comes as the message shows it
 * (quoted, or `"***"` for a secret).
 */
export const badValue = (variable: string, rule: string, shownValue: string) =>
  `${variable} ${rule} (recebido ${shownValue})`;

/** The rule a value breaks, as it reads after the variable's name. */
export const RULES = {
  wholeNumber: (min: number, max: number) => `deve ser um número inteiro de ${min} a ${max}`,
  oneOf: (values: readonly string[]) => `deve ser ${either(values)}`,
  oneOfList: (values: readonly string[]) => `deve ser um destes: ${values.join(', ')}`,
  printable: (min: number, max: number) =>
    `deve ter de ${min} a ${max} caracteres imprimíveis, sem espaços`,
  atLeastCharacters: (min: number) => `deve ter pelo menos ${min} caracteres`,
  printableNoSpaces: 'deve ter só caracteres imprimíveis, sem espaços',
  hostName: 'deve ser um nome de host ou um endereço IP',
  sentinelName: 'deve ter de 1 a 64 letras, dígitos, pontos, hífens ou sublinhados',
  nodeList:
    'deve ser uma lista de host:porta separados por vírgula, como 10.0.0.1:7000,10.0.0.2:7000',
  existingFile: 'deve ser o caminho de um arquivo existente',
  filePath: 'deve ser o caminho de um arquivo',
  encryptionKey: 'deve ter 32 bytes em base64, como os gerados por `openssl rand -base64 32`',
  encryptionKeyList: 'deve listar pelo menos uma chave',
  httpUrl:
    'deve ser um endereço http:// ou https:// sem ?parâmetros nem #fragmento, como http://localhost:11434',
  modelName: 'deve ser um nome de modelo sem espaços, como qwen2.5:3b',
  corsOrigins: 'deve ser uma lista de origens separadas por vírgula, como http://localhost:5173',
  trustProxy:
    'deve ser false ou uma lista, separada por vírgulas, dos endereços ou CIDRs dos proxies ' +
    '(por exemplo 127.0.0.1, 10.0.0.0/8 ou loopback); "true" deixaria qualquer cliente se passar ' +
    'por qualquer endereço, e um número de saltos não distingue o proxy de um cliente que se ' +
    'conecta diretamente',
  /** Any rule a schema does not name itself. */
  invalid: 'tem um valor inválido',
} as const;

/** Settings that do not fit together, and files the configuration names. */
export const PROBLEMS = {
  envFileUnreadable: (file: string, code: string | undefined, message: string) =>
    `não foi possível ler o arquivo de ambiente ${quote(file)}: ${systemReason(code, message)}`,
  redisUrlForm: (received: string) =>
    'REDIS_URL deve ter a forma redis://[usuário:senha@]host[:porta][/banco] ou rediss://... ' +
    `(recebido ${received})`,
  redisUrlQuery: (received: string) =>
    `REDIS_URL não aceita ?parâmetros nem #fragmento (recebido ${received})`,
  redisUrlDatabase: (received: string) =>
    'REDIS_URL deve indicar o banco com um número inteiro, como em redis://host:6379/0 ' +
    `(recebido ${received})`,
  tlsNeedsRediss: (received: string) =>
    'REDIS_TLS_CA, REDIS_TLS_CERT e REDIS_TLS_KEY exigem uma REDIS_URL rediss://; com uma URL ' +
    `redis:// a conexão seria em texto puro (recebido ${received})`,
  tlsCertWithoutKey: 'REDIS_TLS_CERT e REDIS_TLS_KEY andam juntas: defina as duas ou nenhuma',
  tlsFileUnreadable: (variable: string, path: string, code: string | undefined, message: string) =>
    `${variable} deve ser um arquivo legível (recebido ${quote(path)}: ${systemReason(code, message)})`,
  clusterAndSentinel:
    'REDIS_CLUSTER_NODES e REDIS_SENTINELS não podem ser definidas juntas: escolha uma',
  clusterDatabase: (database: number) =>
    `REDIS_CLUSTER_NODES: um Redis Cluster só tem o banco 0, e REDIS_URL ou REDIS_DB pede o banco ${database}`,
  keyPrefixBraces: (received: string) =>
    'REDIS_KEY_PREFIX não pode ter { ou } que não formem uma hash tag num Redis Cluster, como um ' +
    `"{" sozinho (recebido ${received})`,
  encryptionKeyAndKeys:
    'SESSION_ENCRYPTION_KEY e SESSION_ENCRYPTION_KEYS não podem ser definidas juntas: durante uma ' +
    'rotação, liste todas as chaves em SESSION_ENCRYPTION_KEYS, a nova primeiro',
  openaiApiKeyNeeded: 'OPENAI_API_KEY é obrigatória com LLM_PROVIDER=openai em api.openai.com',
  bodyTimeoutShorterThanHeaders: (body: number, headers: number) =>
    `HTTP_BODY_TIMEOUT_MS (${body}) não pode ser menor que HTTP_HEADERS_TIMEOUT_MS (${headers}): ` +
    'o corpo chega depois dos cabeçalhos',
  knowledgeDirMalformed: (path: string, problem: string) =>
    `KNOWLEDGE_DIR tem o arquivo de reparo ${quote(path)} malformado: ${problem}`,
  knowledgeDirUnreadable: (dir: string, code: string) =>
    'KNOWLEDGE_DIR deve ser uma pasta legível com arquivos de reparo *.md ' +
    `(recebido ${quote(dir)}: ${systemReason(code, code)})`,
  adminKeyFileNotRegular: (path: string) =>
    `ADMIN_API_KEY_FILE ${quote(path)} existe e não é um arquivo comum: apague-o ou escolha outro caminho`,
  adminKeyFileReadableByOthers: (path: string, mode: string) =>
    `ADMIN_API_KEY_FILE ${quote(path)} pode ser lido por outros usuários (permissões ${mode}): ` +
    'execute chmod 600 nele',
  adminKeyFileMalformed: (path: string, minLength: number) =>
    `ADMIN_API_KEY_FILE ${quote(path)} deve conter uma só chave, de pelo menos ${minLength} ` +
    'caracteres e sem espaços',
} as const;

/** What is wrong with a repair file (of KNOWLEDGE_DIR, or of the bundled `knowledge/`). */
export const KNOWLEDGE_FILE_PROBLEMS = {
  missingTitle: 'falta a linha de título ("# Título")',
  fewKeywords: (min: number) =>
    `precisa de uma linha "Palavras-chave:" com pelo menos ${min} palavras-chave`,
  missingProfessional: 'falta a linha "Profissional:"',
  noAttempts: 'precisa de seções "## Tentativa 1: ..."',
  attemptOutOfOrder: (expected: number) => `esperava "## Tentativa ${expected}"`,
  attemptWithoutSteps: (attempt: number) => `"## Tentativa ${attempt}" não tem passos`,
} as const;
