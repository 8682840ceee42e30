/**
 * Every sentence a person reads in the web app (the chat at `/` and the operator's console at
 * `/console`), in Portuguese (pt-BR). The pages and the HTML templates take their words from here.
 */

/** "1 segundo", "42 segundos". */
function seconds(count: number): string {
  return `${count} ${count === 1 ? 'segundo' : 'segundos'}`;
}

/** Texts written into the HTML pages at build time (title, description, the no-JavaScript note). */
export const html = {
  chatTitle: 'CQL Agent: assistente de reparos domésticos',
  chatDescription:
    'Descreva o problema da sua casa e receba os passos para consertar, com avisos de segurança.',
  consoleTitle: 'Console de operação: CQL Agent',
  noScript: 'Esta página precisa de JavaScript ligado no navegador para funcionar.',
  /** The page served when the app was never built (the API runs without it). */
  notBuilt:
    'O aplicativo web ainda não foi construído neste servidor. Rode "npm run build:web" e reinicie o serviço; a API continua funcionando.',
} as const;

/** Errors of the API as a person reads them. A `detail` from the server wins over these. */
export const errors = {
  network:
    'Sem conexão com o servidor. Verifique a internet ou o Wi-Fi e tente de novo: sua mensagem continua no campo de texto.',
  invalid: 'A mensagem não foi aceita pelo servidor. Revise o texto e envie de novo.',
  rateLimited: (wait: number | undefined) =>
    wait === undefined
      ? 'Muitas mensagens em pouco tempo. Aguarde um pouco e tente de novo.'
      : `Muitas mensagens em pouco tempo. Aguarde ${seconds(wait)} e tente de novo.`,
  /** The retry button while Retry-After runs. */
  retryIn: (wait: number) => `Tentar de novo (${wait} s)`,
  conflict: 'A conversa estava sendo alterada ao mesmo tempo. Tente de novo.',
  tooLarge: 'Esta conversa ficou grande demais. Comece um novo problema para continuar.',
  badGateway: 'O assistente não conseguiu escrever a resposta agora. Tente de novo.',
  unavailable: 'O serviço está indisponível no momento. Tente de novo em instantes.',
  timeout: 'O assistente demorou demais para responder. Tente de novo.',
  server: (status: number) =>
    `O servidor teve um problema (erro ${status}). Tente de novo em instantes.`,
  unexpected: (status: number) => `O servidor recusou o pedido (erro ${status}).`,
  sessionGone:
    'Sua conversa anterior não está mais disponível: ela expirou ou foi encerrada. Descreva o problema para começar de novo.',
  sessionRefused:
    'Esta conversa não pôde ser aberta neste navegador. Começamos uma nova: descreva o problema de novo.',
  streamCut: 'A conexão caiu no meio da resposta. Tente de novo: sua mensagem continua no campo.',
} as const;

/** The chat page. */
export const chat = {
  appName: 'CQL Agent',
  tagline: 'Assistente de reparos domésticos',
  newProblem: 'Novo problema',
  newProblemLabel: 'Começar um novo problema e apagar esta conversa',
  welcomeTitle: 'Olá! Qual é o problema na sua casa?',
  welcomeText:
    'Conte o que está com defeito e o que acontece. Eu explico os passos para consertar e aviso sobre os cuidados de segurança.',
  examplesLabel: 'Exemplos para começar',
  examples: [
    'A torneira da cozinha está pingando',
    'A tomada do quarto está sem energia',
    'A pia do banheiro está entupida',
  ],
  conversationLabel: 'Conversa com o assistente',
  you: 'Você',
  assistant: 'Assistente',
  inputLabel: 'Descreva o problema ou responda ao assistente',
  inputPlaceholder: 'Ex.: a torneira está pingando',
  inputHint: 'Enter envia; Shift+Enter começa uma nova linha.',
  send: 'Enviar',
  sending: 'Enviando…',
  writing: 'O assistente está escrevendo…',
  loadingHistory: 'Carregando sua conversa…',
  feedbackQuestion: 'O problema foi resolvido?',
  yes: 'Sim',
  no: 'Não',
  /** What the Sim / Não buttons send. */
  yesMessage: 'sim',
  noMessage: 'não',
  attempt: (current: number, max: number) => `Tentativa ${current} de ${max}`,
  stateWaiting: 'Aguardando sua resposta',
  stateResolved: 'Resolvido',
  stateProfessional: 'Recomendado chamar um profissional',
  sources: 'Baseado nos guias:',
  warningLabel: 'Aviso de segurança',
  stepsLabel: 'Passo a passo',
  retry: 'Tentar de novo',
  dismiss: 'Fechar aviso',
  newReplyAnnouncement: (text: string) => `Resposta do assistente: ${text}`,
  counter: (length: number, max: number) => `${length} de ${max} caracteres`,
  resetDone: 'Conversa apagada. Descreva o novo problema.',
} as const;

/** The operator's console. */
export const operator = {
  title: 'Console de operação',
  appName: 'CQL Agent',
  signInTitle: 'Entrar no console',
  signInText:
    'Informe a chave de administrador (ADMIN_API_KEY). Ela fica guardada só nesta aba e é esquecida ao fechá-la.',
  keyLabel: 'Chave de administrador',
  signIn: 'Entrar',
  signOut: 'Sair',
  keyMissing: 'Informe a chave para entrar.',
  keyRefused: 'A chave foi recusada pelo servidor. Confira e entre de novo.',
  loopbackOnly:
    'O servidor só atende o console a partir da própria máquina enquanto ADMIN_API_KEY não estiver definida.',
  sectionsLabel: 'Seções do console',
  sessionsTab: 'Sessões',
  storeTab: 'Armazenamento',
  outcomesTab: 'Resultados',
  notAvailable: (status: number) =>
    `Este servidor ainda não oferece esta informação (erro ${status}).`,
  network: 'Sem conexão com o servidor. Confira se ele está no ar.',
  refused: (status: number, detail: string | undefined) =>
    detail ?? `O servidor recusou o pedido (erro ${status}).`,
  noExpiry: 'sem expiração',
  expired: 'expirada',
  skipToContent: 'Pular para o conteúdo',
  updatedAt: (time: string) => `Atualizado às ${time}`,
  none: '—',
  yes: 'Sim',
  no: 'Não',
  sessions: {
    title: 'Sessões',
    stateFilter: 'Estado',
    allStates: 'Todos',
    prefix: 'Início do id',
    prefixPlaceholder: 'ex.: user-',
    search: 'Buscar',
    refresh: 'Atualizar',
    first: 'Primeira página',
    previous: 'Página anterior',
    next: 'Próxima página',
    caption: 'Sessões guardadas',
    id: 'Sessão',
    state: 'Estado',
    attempt: 'Tentativa',
    ttl: 'Expira em',
    updated: 'Última atualização',
    size: 'Tamanho',
    actions: 'Ações',
    open: 'Abrir',
    openLabel: (id: string) => `Abrir a sessão ${id}`,
    empty: 'Nenhuma sessão encontrada.',
    count: (count: number) =>
      count === 1 ? '1 sessão nesta página' : `${count} sessões nesta página`,
    loading: 'Carregando sessões…',
  },
  states: {
    new_problem: 'Novo problema',
    waiting_feedback: 'Aguardando resposta',
    resolved: 'Resolvido',
    max_attempts: 'Profissional recomendado',
  },
  detail: {
    title: (id: string) => `Sessão ${id}`,
    close: 'Fechar',
    problem: 'Problema',
    noProblem: 'nenhum ainda',
    created: 'Criada em',
    updated: 'Atualizada em',
    version: 'Versão',
    ttl: 'Expira em',
    attempt: 'Tentativa',
    conversation: 'Conversa',
    emptyConversation: 'A conversa está vazia.',
    person: 'Pessoa',
    assistant: 'Assistente',
    delete: 'Excluir sessão',
    confirmDelete: (id: string) => `Excluir de vez a sessão ${id}? A pessoa perde a conversa.`,
    confirm: 'Sim, excluir',
    cancel: 'Cancelar',
    deleted: (id: string) => `Sessão ${id} excluída.`,
    ttlLabel: 'Novo prazo de expiração (segundos)',
    ttlApply: 'Aplicar prazo',
    ttlInvalid: 'Informe um número inteiro de segundos, de 1 a 31536000.',
    ttlChanged: (ttl: string) => `Prazo alterado: expira em ${ttl}.`,
    gone: 'Esta sessão não existe mais (expirou ou foi excluída).',
    loading: 'Carregando a sessão…',
  },
  store: {
    title: 'Armazenamento',
    backend: 'Onde ficam as sessões',
    redis: 'Redis',
    memory: 'Memória',
    topology: 'Topologia',
    topologies: { single: 'Servidor único', cluster: 'Cluster', sentinel: 'Sentinel' },
    connected: 'Conectado',
    onMemorySince: 'Na cópia em memória desde',
    pendingWritebacks: 'Gravações pendentes',
    quarantined: 'Valores em quarentena',
    redisMemory: 'Memória do Redis',
    memoryOf: (used: string, max: string) => `${used} de ${max}`,
    noLimit: (used: string) => `${used} (sem limite)`,
    evicted: 'Chaves despejadas',
    hitRatio: 'Taxa de acerto',
    degradedReason: 'Motivo da degradação',
  },
  outcomes: {
    title: 'Resultados',
    turnsTitle: 'Turnos por minuto (última hora)',
    turns: 'Turnos',
    minute: 'Minuto',
    totalsTitle: 'Sessões por desfecho',
    byTopicTitle: 'Desfechos por assunto',
    topic: 'Assunto',
    noGuide: 'Sem guia da base de conhecimento',
    outcome: 'Desfecho',
    count: 'Sessões',
    resolved: 'Resolvidas',
    maxAttempts: 'Profissional recomendado',
    open: 'Em aberto',
    showTable: 'Ver os dados em tabela',
    noData: 'Ainda não há dados.',
  },
} as const;
