import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFeedback } from '../src/agent/feedback.js';

const cases: Record<ReturnType<typeof classifyFeedback>, string[]> = {
  resolved: [
    'sim',
    'Sim!',
    's',
    'S',
    'yes',
    'y',
    'funcionou',
    'Funcionou, obrigado',
    'deu certo',
    'resolveu',
    'resolvido',
    'consegui',
    'sim, parou de pingar',
    'ok',
    'it worked',
    'não pinga mais',
    'não está mais vazando',
    'nunca mais pingou',
    'não tem mais cheiro',
    'nem acredito, funcionou!',
    'continua funcionando bem',
  ],
  not_resolved: [
    'não',
    'nao',
    'NÃO',
    'n',
    'no',
    'não funcionou',
    'nao deu certo',
    'ainda não',
    'ainda está pingando',
    'continua pingando',
    'o problema persiste',
    'piorou',
    'nope',
    'nem funcionou',
    'sim, mas não resolveu',
    'parou de funcionar de vez',
    'num funcionou',
    'deu errado',
    'não, ainda está pingando',
    'não parou de pingar',
    'nem acredito, não funcionou',
    'continua igual',
  ],
  ambiguous: [
    '',
    '   ',
    'talvez',
    'não sei',
    'nem sei',
    'mais ou menos',
    'melhorou um pouco',
    'o que é um sifão?',
    'obrigado',
    '👍',
    'em parte',
  ],
};

describe('feedback detection', () => {
  for (const [expected, answers] of Object.entries(cases)) {
    it(`reads ${answers.length} answers as ${expected}`, () => {
      const wrong = answers
        .filter((a) => classifyFeedback(a) !== expected)
        .map((a) => `${JSON.stringify(a)} -> ${classifyFeedback(a)}`);
      assert.deepEqual(wrong, []);
    });
  }

  it('lets a negation win over a positive word', () => {
    assert.equal(classifyFeedback('não funcionou'), 'not_resolved');
    assert.equal(classifyFeedback('funcionou? não'), 'not_resolved');
  });
});
