/**
 * Every text a person reads from the `cql-agent` command line, in Portuguese (pt-BR): command
 * and option descriptions, commander's own help and errors, error lines, reports and progress.
 * Commands take their words from here; machine output (JSON, the export format) stays as it is.
 */

/** Joins a count to the singular or plural form of what it counts. */
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** A path or a value shown in a message: quoted, with any line break escaped (one line). */
export const quote = (value: string): string => JSON.stringify(value);

export const PROGRAM_DESCRIPTION = 'CQL Agent: assistente de reparos domésticos';

/** Descriptions shown by `--help`. Argument placeholders are part of the usage line too. */
export const HELP = {
  version: 'mostra a versão',
  serve: 'inicia a API HTTP (HOST, PORT; sessões em memória, ou no Redis com USE_REDIS=true)',
  chat: "assistente interativo no terminal ('novo' para um novo problema, 'sair' para encerrar)",
  chatSession: 'id da sessão a iniciar ou continuar (sem ele, uma sessão nova)',
  sessions: 'inspeciona, faz backup e restaura as sessões guardadas no Redis',
  list: 'id, estado, tentativa e TTL de cada sessão (SCAN, nunca KEYS)',
  listJson: 'um objeto JSON por linha',
  listLimit: 'no máximo esta quantidade',
  show: 'a sessão inteira, com o histórico, e o seu TTL',
  sessionId: 'id da sessão',
  ttl: 'segundos que restam à sessão',
  delete: 'apaga uma sessão',
  stats: 'sessões por estado, e memória, despejos e taxa de acertos do INFO do Redis',
  export: 'todas as sessões e a sua expiração, em linhas JSON',
  exportOut:
    'grava neste arquivo (novo ou comum; criado com permissão 0600) em vez da saída padrão; ' +
    '- para a saída padrão',
  import: 'grava de volta as sessões com a sua expiração, nunca sobre uma atualizada depois',
  importFile: 'linhas JSON escritas por export; - para a entrada padrão',
  purge: 'apaga todas as chaves sob REDIS_KEY_PREFIX (SCAN + UNLINK, nunca FLUSHDB)',
  purgeYes: 'apaga de fato; sem esta opção, só mostra o que seria apagado',
  helpOption: 'mostra a ajuda do comando',
  helpCommand: 'mostra a ajuda de um comando',
} as const;

/** Placeholders of arguments and option values, as the usage line shows them. */
export const PLACEHOLDERS = {
  helpCommand: 'help [comando]',
  sessionId: '<id>',
  file: '<arquivo>',
  limit: '<n>',
} as const;

/** Commander's help: section titles, words of the usage line, and what it adds to options. */
export const HELP_LAYOUT = {
  titles: {
    'Usage:': 'Uso:',
    'Arguments:': 'Argumentos:',
    'Options:': 'Opções:',
    'Commands:': 'Comandos:',
    'Global Options:': 'Opções globais:',
  } as Readonly<Record<string, string>>,
  usageWords: {
    '[options]': '[opções]',
    '[command]': '[comando]',
  } as Readonly<Record<string, string>>,
  defaultValue: (value: string) => `padrão: ${value}`,
  choices: (values: string) => `valores: ${values}`,
  environment: (variable: string) => `variável: ${variable}`,
} as const;

/** Commander's own errors (usage errors), said again in Portuguese. */
export const USAGE_ERRORS = {
  unknownOption: (flag: string) => `opção desconhecida '${flag}'`,
  unknownCommand: (name: string) => `comando desconhecido '${name}'`,
  didYouMean: (candidates: string[]) =>
    candidates.length === 1
      ? ` (você quis dizer ${candidates[0]}?)`
      : ` (você quis dizer um destes: ${candidates.join(', ')}?)`,
  missingArgument: (name: string) => `falta o argumento obrigatório '${name}'`,
  optionMissingValue: (flags: string) => `falta o valor da opção '${flags}'`,
  missingMandatoryOption: (flags: string) => `a opção obrigatória '${flags}' não foi informada`,
  tooManyArguments: (command: string | undefined, expected: number, received: number) =>
    `argumentos demais${command ? ` para '${command}'` : ''}: ` +
    `${count(expected, 'esperado', 'esperados')}, ${count(received, 'recebido', 'recebidos')}`,
  invalidOptionValue: (flags: string, value: string, reason: string) =>
    `valor '${value}' inválido para a opção '${flags}'${reason ? `: ${reason}` : ''}`,
  invalidArgumentValue: (name: string, value: string, reason: string) =>
    `valor '${value}' inválido para o argumento '${name}'${reason ? `: ${reason}` : ''}`,
  conflictingOptions: (first: string, second: string) =>
    `${first} não pode ser usada junto com ${second}`,
  positiveNumber: 'deve ser um número inteiro maior que 0',
  invalidSessionId: (value: string) => USAGE_ERRORS.invalidSessionIdShown(quote(value)),
  /** `shown`: the value as the error describes it (quoted, shortened). */
  invalidSessionIdShown: (shown: string) =>
    `id de sessão inválido ${shown}: use de 1 a 128 caracteres entre letras, dígitos, '_' e '-'`,
} as const;

/** What a path is, when it is not the regular file needed. */
export const FILE_KINDS: Readonly<Record<string, string>> = {
  directory: 'uma pasta',
  symlink: 'um link simbólico',
  fifo: 'um FIFO (pipe nomeado)',
  socket: 'um socket',
  'character-device': 'um dispositivo de caracteres',
  'block-device': 'um dispositivo de blocos',
  unknown: 'um arquivo especial',
};

const fileKind = (kind: string) => FILE_KINDS[kind] ?? FILE_KINDS.unknown;

/** The reason of a file system error, by its code; other codes keep the system's message. */
export const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'arquivo ou pasta inexistente',
  EACCES: 'permissão negada',
  EPERM: 'operação não permitida',
  ENOSPC: 'sem espaço no disco',
  EDQUOT: 'cota de disco excedida',
  EROFS: 'sistema de arquivos somente leitura',
  EISDIR: 'é uma pasta',
  ENOTDIR: 'uma parte do caminho não é uma pasta',
  EIO: 'erro de entrada e saída',
  ELOOP: 'links simbólicos demais',
  ENAMETOOLONG: 'nome longo demais',
  EMFILE: 'arquivos abertos demais',
  EEXIST: 'o arquivo já existe',
};

export const systemReason = (code: string | undefined, message: string): string =>
  (code && SYSTEM_ERRORS[code]) || message;

/** Error lines (each printed as `cql-agent: <text>`). */
export const ERRORS = {
  prefix: 'cql-agent: ',
  notARegularFile: (path: string, kind: string) =>
    `${quote(path)} é ${fileKind(kind)}, não um arquivo comum: só é possível gravar num arquivo comum ou num caminho novo`,
  cannotWrite: (path: string, reason: string) =>
    `não foi possível gravar ${quote(path)}: ${reason}`,
  cannotRead: (path: string, reason: string) => `não foi possível ler ${quote(path)}: ${reason}`,
  cannotWriteStandardOutput: (reason: string) =>
    `não foi possível gravar na saída padrão: ${reason}`,
  cannotReadStandardInput: (reason: string) => `não foi possível ler a entrada padrão: ${reason}`,
  notAFileToRead: (path: string, kind: string) =>
    `não foi possível ler ${quote(path)}: é ${fileKind(kind)}, não um arquivo comum`,
  redisRequired:
    'os comandos sessions trabalham no Redis: defina USE_REDIS=true (sessões em memória vivem ' +
    'dentro do servidor em execução: exporte-as com GET /api/v1/export/sessions ou MEMORY_SNAPSHOT_PATH)',
  redisUnreachable: (where: string, reason: string) =>
    `não foi possível conectar ao Redis em ${where}: ${reason}`,
  invalidConfiguration: (problems: readonly string[]) =>
    `configuração inválida: ${problems.join('; ')}`,
  sessionNotFound: (id: string) => `sessão "${id}" não encontrada`,
  sessionCorrupt: (id: string, detail: string) =>
    `a sessão "${id}" guarda um valor ilegível: ${detail}`,
  sessionTooLarge: (id: string, bytes: number, limit: number) =>
    `a sessão "${id}" tem ${bytes} bytes serializada, acima do limite de ${limit} bytes ` +
    '(SESSION_MAX_BYTES); nada foi gravado',
  sessionConflict: (id: string) =>
    `a sessão "${id}" foi alterada por outra operação ao mesmo tempo; nada foi gravado`,
  storeFull: (detail: string) => `o armazenamento de sessões recusou a gravação: ${detail}`,
  storeUnavailable: (backend: string, detail: string) =>
    `o armazenamento de sessões (${backend}) falhou: ${detail}`,
  importFailed: (lines: number) =>
    lines === 1 ? '1 linha não pôde ser importada' : `${lines} linhas não puderam ser importadas`,
  unexpected: (message: string) => `erro inesperado: ${message}`,
} as const;

/** Why one line of an import file was not imported. */
export const IMPORT_PROBLEMS = {
  lineTooLong: (bytes: number, limit: number) =>
    `linha de ${bytes} bytes, acima do limite de ${limit} (SESSION_MAX_BYTES mais uma margem ` +
    'para o resto da linha): descartada sem ser carregada na memória',
  notUtf8: 'não é texto UTF-8 válido',
  notJson: 'não é JSON válido',
  notObject: 'não é um objeto JSON',
  badSessionId: 'session_id ausente ou inválido',
  badExpiresAt: 'expires_at não é uma data',
  badTtl: 'ttl deve ser um número inteiro de segundos ou null',
} as const;

/** The memory snapshot (MEMORY_SNAPSHOT_PATH), checked when the service starts. */
export const SNAPSHOT = {
  notARegularFile: (path: string, kind: string) =>
    `MEMORY_SNAPSHOT_PATH ${quote(path)} é ${fileKind(kind)}, não um arquivo comum: o snapshot ` +
    'precisa ser um arquivo comum ou um caminho novo',
  folderNotWritable: (path: string, reason: string) =>
    `MEMORY_SNAPSHOT_PATH ${quote(path)}: não é possível gravar na sua pasta (${reason})`,
  unreadable: (path: string, reason: string) =>
    `MEMORY_SNAPSHOT_PATH ${quote(path)}: não foi possível ler o snapshot (${reason})`,
} as const;

/** What the commands print. */
export const REPORTS = {
  listHeader: ['SESSÃO', 'ESTADO', 'TENTATIVA', 'TTL'],
  sessions: (n: number) => count(n, 'sessão', 'sessões'),
  noExpiry: 'sem expiração',
  deleted: (id: string) => `sessão ${id} apagada`,
  stats: {
    backend: 'backend',
    sessions: 'sessões',
    usedMemory: 'memória usada',
    maxmemory: 'maxmemory',
    noLimit: 'sem limite',
    evictedKeys: 'chaves despejadas',
    hitRatio: 'taxa de acertos',
    quarantined: 'em quarentena',
  },
  progress: '{bar} {value}/{total} sessões',
  exported: (n: number, unreadable: string[]) =>
    `${count(n, 'sessão exportada', 'sessões exportadas')}` +
    (unreadable.length > 0
      ? `; ${count(unreadable.length, 'ilegível ignorada', 'ilegíveis ignoradas')}: ${unreadable.slice(0, 5).join(', ')}`
      : ''),
  imported: (report: { imported: number; skipped: number; expired: number; failed: number }) =>
    `importadas: ${report.imported}; ignoradas: ${report.skipped} (atualizadas depois no Redis); ` +
    `expiradas: ${report.expired}; com falha: ${report.failed}`,
  failedLine: (line: number, reason: string) => `  linha ${line}: ${reason}`,
  purged: (n: number, prefix: string) =>
    `${count(n, 'chave apagada', 'chaves apagadas')} sob "${prefix}"`,
  wouldPurge: (n: number, prefix: string, examples: string[]) =>
    `${count(n, 'chave seria apagada', 'chaves seriam apagadas')} sob "${prefix}"` +
    (examples.length > 0 ? `, por exemplo ${examples.join(', ')}` : ''),
  nothingPurged: 'nada foi apagado: execute de novo com --yes para apagar',
} as const;

/** The assistant in the terminal (`cql-agent chat`). */
export const CHAT = {
  greeting: (sessionId: string, backend: string) =>
    `CQL Agent, assistente de reparos domésticos (sessão "${sessionId}", armazenamento ${backend}).\n` +
    "Descreva o problema. Digite 'novo' para um novo problema ou 'sair' para encerrar.",
  continuing: (messages: number, lastReply: string) =>
    `Continuando a conversa (${messages} mensagens). Última resposta:\n${lastReply}`,
  prompt: 'Você: ',
  reply: (text: string) => `Assistente: ${text}`,
  newProblem: 'Certo, vamos começar um novo problema. Descreva o que está acontecendo.',
  created: (sessionId: string) =>
    `(Sessão "${sessionId}" criada: continue esta conversa depois com --session ${sessionId}.)`,
  error: (message: string) => `Erro: ${message}`,
  notYours: (sessionId: string) =>
    `a sessão "${sessionId}" já existe e este terminal não tem o seu token: passe-o com --token, ` +
    'ou use outro --session',
  goodbye: 'Até logo!',
  tokenOption: 'token da sessão, para continuar uma conversa começada em outro lugar (web, API)',
  tokensFileProblem: (path: string, reason: string) =>
    `não foi possível usar o arquivo de tokens ${quote(path)}: ${reason}`,
} as const;
