/**
 * The prompt format of instruction-tuned models: fine-tuning (ModelFactory) formats rows with it and serving
 * (OpenLoRA) formats chat messages with it, so a model is asked exactly the way it was taught. It is plain text
 * the base model can read; the answer follows "Answer:" and ends at the end-of-text token.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The prompt for one instruction; the response is appended after a space. */
export function formatInstruction(instruction: string): string {
  return `Question: ${instruction.trim()}\nAnswer:`;
}

/** A conversation as one prompt: system text first, earlier turns as answered questions, then the new question. */
export function formatChat(messages: readonly ChatMessage[]): string {
  const parts: string[] = [];
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content.trim());
  if (system.length > 0) parts.push(system.join('\n'));
  const turns = messages.filter((m) => m.role !== 'system');
  for (const [i, m] of turns.entries()) {
    if (m.role === 'user') {
      const next = turns[i + 1];
      parts.push(
        next?.role === 'assistant'
          ? `${formatInstruction(m.content)} ${next.content.trim()}`
          : formatInstruction(m.content),
      );
    }
  }
  return parts.join('\n');
}
