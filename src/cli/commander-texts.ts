/**
 * Commander's own texts in Portuguese, through its public hooks: the help option and command,
 * the help layout (configureHelp) and its usage errors (configureOutput). Commander builds those
 * errors in English with fixed wording; each known form is said again from src/texts/cli.ts, and
 * one it does not know keeps its words without the "error:" label.
 */
import type { Argument, Command, Help, Option } from 'commander';
import { ERRORS, HELP, HELP_LAYOUT, PLACEHOLDERS, USAGE_ERRORS } from '../texts/cli.js';
import { oneLine } from './failure.js';

const suggestions = (list: string | undefined) =>
  list ? USAGE_ERRORS.didYouMean(list.split(', ')) : '';

/** Commander's usage errors (commander 14 wording), most specific first. */
const TRANSLATIONS: Array<[RegExp, (...groups: string[]) => string]> = [
  [
    /^error: unknown option '(.*?)'(?:\s*\(Did you mean (?:one of )?(.*)\?\))?$/s,
    (flag = '', similar) => USAGE_ERRORS.unknownOption(flag) + suggestions(similar),
  ],
  [
    /^error: unknown command '(.*?)'(?:\s*\(Did you mean (?:one of )?(.*)\?\))?$/s,
    (name = '', similar) => USAGE_ERRORS.unknownCommand(name) + suggestions(similar),
  ],
  [/^error: missing required argument '(.*)'$/s, (name = '') => USAGE_ERRORS.missingArgument(name)],
  [
    /^error: option '(.*)' argument missing$/s,
    (flags = '') => USAGE_ERRORS.optionMissingValue(flags),
  ],
  [
    /^error: required option '(.*)' not specified$/s,
    (flags = '') => USAGE_ERRORS.missingMandatoryOption(flags),
  ],
  [
    /^error: too many arguments(?: for '(.*)')?\. Expected (\d+) arguments? but got (\d+)\.$/s,
    (command, expected = '0', received = '0') =>
      USAGE_ERRORS.tooManyArguments(command, Number(expected), Number(received)),
  ],
  [
    /^error: option '(.*?)' argument '(.*)' is invalid\.\s*(.*)$/s,
    (flags = '', value = '', reason = '') => USAGE_ERRORS.invalidOptionValue(flags, value, reason),
  ],
  [
    /^error: command-argument value '(.*)' is invalid for argument '(.*?)'\.\s*(.*)$/s,
    (value = '', name = '', reason = '') => USAGE_ERRORS.invalidArgumentValue(name, value, reason),
  ],
  [
    /^error: (.*) cannot be used with (.*)$/s,
    (first = '', second = '') => USAGE_ERRORS.conflictingOptions(first, second),
  ],
];

/** One of commander's error messages in Portuguese. */
export function translateUsageError(message: string): string {
  const text = message.trim();
  for (const [pattern, translate] of TRANSLATIONS) {
    const match = pattern.exec(text);
    if (match) return translate(...match.slice(1).map((group) => group ?? ''));
  }
  return text.replace(/^error:\s*/, '');
}

/** The notes commander adds after a description (default, choices, environment variable). */
function withNotes(description: string, notes: string[]): string {
  if (notes.length === 0) return description;
  const extra = `(${notes.join(', ')})`;
  return description ? `${description} ${extra}` : extra;
}

/** `[options]` and `[command]` of a usage line or a subcommand's term. */
const usageInPortuguese = (usage: string) =>
  usage
    .split(' ')
    .map((word) => HELP_LAYOUT.usageWords[word] ?? word)
    .join(' ');

const listed = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(', ');

/** Commander's help, with Portuguese titles, usage words and notes. */
const HELP_CONFIGURATION: Partial<Help> = {
  styleTitle: (title: string) => HELP_LAYOUT.titles[title] ?? title,
  styleUsage: (usage: string) => usageInPortuguese(usage),
  styleSubcommandTerm: (term: string) => usageInPortuguese(term),
  optionDescription: (option: Option) => {
    const notes: string[] = [];
    if (option.argChoices) notes.push(HELP_LAYOUT.choices(listed(option.argChoices)));
    const showDefault =
      option.defaultValue !== undefined &&
      (option.required ||
        option.optional ||
        (option.isBoolean() && typeof option.defaultValue === 'boolean'));
    if (showDefault) {
      notes.push(
        HELP_LAYOUT.defaultValue(
          option.defaultValueDescription ?? JSON.stringify(option.defaultValue),
        ),
      );
    }
    if (option.envVar !== undefined) notes.push(HELP_LAYOUT.environment(option.envVar));
    return withNotes(option.description ?? '', notes);
  },
  argumentDescription: (argument: Argument) => {
    const notes: string[] = [];
    if (argument.argChoices) notes.push(HELP_LAYOUT.choices(listed(argument.argChoices)));
    if (argument.defaultValue !== undefined) {
      notes.push(
        HELP_LAYOUT.defaultValue(
          argument.defaultValueDescription ?? JSON.stringify(argument.defaultValue),
        ),
      );
    }
    return withNotes(argument.description ?? '', notes);
  },
};

/** Sets the Portuguese texts on `program`; call it before adding subcommands (they inherit). */
export function useCommanderTexts(program: Command): Command {
  return program
    .helpOption('-h, --help', HELP.helpOption)
    .helpCommand(PLACEHOLDERS.helpCommand, HELP.helpCommand)
    .configureHelp(HELP_CONFIGURATION)
    .configureOutput({
      outputError: (message, write) =>
        write(`${ERRORS.prefix}${oneLine(translateUsageError(message))}\n`),
    });
}
