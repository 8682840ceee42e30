/** The command line speaks Portuguese: its help, commander's usage errors, one line each. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../src/cli/cli-error.js';
import { translateUsageError } from '../src/cli/commander-texts.js';
import { describeFailure, oneLine } from '../src/cli/failure.js';
import { ConfigError } from '../src/config.js';
import { InvalidSessionIdError, StoreUnavailableError } from '../src/sessions/errors.js';
import { CHAT, ERRORS, HELP, USAGE_ERRORS } from '../src/texts/cli.js';
import { type Run, runNode } from './support/run-process.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Commander's words that must not reach a person. */
const ENGLISH = /\b(Usage|Options|Commands|Arguments|display help|default:|error:|Did you mean)\b/;

describe('cql-agent in Portuguese', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'cql-cli-texts-'));
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });
  const run = (...args: string[]): Promise<Run> =>
    runNode(['--import', TSX, MAIN, ...args], { cwd, env: {} });

  it('shows help with Portuguese titles, usage words and descriptions', async () => {
    const root = await run('--help');
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.stdout, /^Uso: cql-agent \[opções\] \[comando\]$/m);
    assert.match(root.stdout, /^Opções:$/m);
    assert.match(root.stdout, /^Comandos:$/m);
    assert.match(root.stdout, /^ {2}chat \[opções\] +assistente interativo/m);
    assert.match(root.stdout, /^ {2}help \[comando\] +mostra a ajuda de um comando$/m);
    assert.ok(root.stdout.includes(HELP.helpOption));
    assert.doesNotMatch(root.stdout, ENGLISH);

    const exportHelp = await run('sessions', 'export', '--help');
    assert.match(exportHelp.stdout, /^Uso: cql-agent sessions export \[opções\]$/m);
    assert.match(exportHelp.stdout, /--out <arquivo> +grava neste arquivo/);
    assert.doesNotMatch(exportHelp.stdout, ENGLISH);

    const chat = await run('chat', '--help');
    const chatText = chat.stdout.replace(/\s+/g, ' ');
    assert.ok(chatText.includes(HELP.chatSession), chat.stdout);
    assert.ok(chatText.includes(CHAT.tokenOption), chat.stdout);
    assert.doesNotMatch(chat.stdout, ENGLISH);

    const viaHelpCommand = await run('help', 'sessions');
    assert.match(viaHelpCommand.stdout, /^ {2}import <arquivo> +grava de volta/m);
    assert.doesNotMatch(viaHelpCommand.stdout, ENGLISH);
  });

  it("prints the package's version with --version and exit 0", async () => {
    const { version } = JSON.parse(
      await readFile(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await run(flag);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${version}\n`);
      assert.equal(result.stderr, '');
    }
  });

  describe("reports commander's usage errors in Portuguese, one line each, with exit code 2", () => {
    const cases: Array<[string[], string]> = [
      [['sessions', 'list', '--bogus'], USAGE_ERRORS.unknownOption('--bogus')],
      [
        ['sessions', 'list', '--jsn'],
        USAGE_ERRORS.unknownOption('--jsn') + USAGE_ERRORS.didYouMean(['--json']),
      ],
      [['sessions', 'lst'], USAGE_ERRORS.unknownCommand('lst') + USAGE_ERRORS.didYouMean(['list'])],
      [['sessions', 'show'], USAGE_ERRORS.missingArgument('id')],
      [['sessions', 'show', 'a', 'b'], USAGE_ERRORS.tooManyArguments('show', 1, 2)],
      [['sessions', 'list', '--limit'], USAGE_ERRORS.optionMissingValue('--limit <n>')],
      [
        ['sessions', 'list', '--limit', '0'],
        USAGE_ERRORS.invalidOptionValue('--limit <n>', '0', USAGE_ERRORS.positiveNumber),
      ],
      [['sessions', 'ttl', '../x'], USAGE_ERRORS.invalidSessionId('../x')],
      [['chat', '--session', '../etc'], USAGE_ERRORS.invalidSessionId('../etc')],
    ];
    // One process each: a test of its own, so that a slow machine's runs do not add up.
    for (const [args, message] of cases) {
      it(`cql-agent ${args.join(' ')}`, async () => {
        const result = await run(...args);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(result.stderr, `${ERRORS.prefix}${message}\n`, args.join(' '));
        assert.equal(result.stdout, '');
      });
    }
  });

  it("says each of commander's error forms again, and drops the English label of any other", () => {
    const forms: Array<[string, string]> = [
      [
        "error: unknown option '--x'\n(Did you mean one of --xa, --xb?)",
        USAGE_ERRORS.unknownOption('--x') + USAGE_ERRORS.didYouMean(['--xa', '--xb']),
      ],
      ["error: unknown command 'y'", USAGE_ERRORS.unknownCommand('y')],
      [
        "error: required option '--k <v>' not specified",
        USAGE_ERRORS.missingMandatoryOption('--k <v>'),
      ],
      [
        'error: too many arguments. Expected 0 arguments but got 1.',
        USAGE_ERRORS.tooManyArguments(undefined, 0, 1),
      ],
      [
        "error: command-argument value 'z' is invalid for argument 'id'. ruim",
        USAGE_ERRORS.invalidArgumentValue('id', 'z', 'ruim'),
      ],
      [
        "error: option '--a' cannot be used with option '--b'",
        USAGE_ERRORS.conflictingOptions("option '--a'", "option '--b'"),
      ],
      ['error: something new in a later version', 'something new in a later version'],
    ];
    for (const [english, portuguese] of forms)
      assert.equal(translateUsageError(english), portuguese);
  });

  it('turns every failure into one line and an exit code: 2 for usage, 1 for the rest', () => {
    const unexpected = new TypeError('algo quebrou\n    at lugar (arquivo.js:1:1)');
    const cases: Array<[unknown, string, number]> = [
      [new CliError('sessão "x" não encontrada'), 'sessão "x" não encontrada', 1],
      [new CliError('uso', 2), 'uso', 2],
      [new ConfigError(['A ruim', 'B ruim']), ERRORS.invalidConfiguration(['A ruim', 'B ruim']), 2],
      [new InvalidSessionIdError('../x'), USAGE_ERRORS.invalidSessionId('../x'), 2],
      [
        new StoreUnavailableError('redis', 'get', 'connect ECONNREFUSED'),
        ERRORS.storeUnavailable('redis', 'connect ECONNREFUSED'),
        2,
      ],
      [unexpected, ERRORS.unexpected(unexpected.message), 1],
      ['não é um Error', ERRORS.unexpected('não é um Error'), 1],
    ];
    for (const [error, message, exitCode] of cases) {
      assert.deepEqual(describeFailure(error), { message, exitCode }, String(error));
    }
    assert.equal(
      oneLine(ERRORS.unexpected(unexpected.message)),
      'erro inesperado: algo quebrou at lugar (arquivo.js:1:1)',
    );
  });
});
