import { describe, expect, it } from 'vitest';
import { formatChat, formatInstruction } from './chat.js';

describe('prompt format', () => {
  it('asks one question the way fine-tuning taught it', () => {
    expect(formatInstruction('  How many moons has Mars? ')).toBe('Question: How many moons has Mars?\nAnswer:');
  });

  it('lays out system text, answered turns and the new question', () => {
    expect(
      formatChat([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is Mars?' },
        { role: 'assistant', content: 'A planet.' },
        { role: 'user', content: 'How many moons?' },
      ]),
    ).toBe('Be brief.\nQuestion: What is Mars?\nAnswer: A planet.\nQuestion: How many moons?\nAnswer:');
  });
});
