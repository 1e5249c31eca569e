/**
 * What a served request asked, rebuilt by an auditor exactly as the node built it: the prompt the model read (chat
 * messages through the same template, retrieved passages first when retrieval grounded it) and, from the exact
 * request body, the sampling parameters — so the node-signed `requestHash` can be recomputed and compared.
 */
import { BaseError } from '../core/index.js';
import { groundedPrompt, parseChatRequest, parseCompletionRequest } from '../openlora/index.js';
import { decodeArtifact, openloraApi } from '../protocol/index.js';

/** What the auditor is told about the request; one of body, messages or prompt. */
export interface AskedRequest {
  /** The exact request body as sent (chat or text completion): its prompt, retrieval and sampling. */
  body?: unknown;
  /** The chat messages (system, several turns), as OpenAI's `messages`. */
  messages?: unknown;
  /** The exact prompt the model read (retrieved passages included). */
  prompt?: string;
  /** Or its token ids in the served base model's vocabulary (decoded exactly: byte-level BPE). */
  promptTokens?: readonly number[];
  /** The retrieval context block the node put before the prompt (default: recomputed from the corpus). */
  context?: string;
}

/** The request as rebuilt, before retrieval: what the model was asked and, from a body, how it sampled. */
export interface RebuiltRequest {
  prompt: string;
  /** Retrieval asked for: the query and top-k the node retrieved with (null: not asked, or not known). */
  retrieval: { query: string; topK: number } | null;
  /** The sampling fields requestHash covers; null unless the exact body was given. */
  sampling: { maxTokens: number; temperature: number; topP: number; seed: number } | null;
  /** The prompt is final as given (`prompt`): nothing is put before it. */
  exact: boolean;
}

/** The field of the request the auditor read from, for errors. */
export type AskedField = '--body' | '--messages' | '--prompt';

const chatOrCompletion = (body: unknown) =>
  typeof body === 'object' && body !== null && 'messages' in body ? 'chat' : 'completion';

/**
 * The request rebuilt from what the auditor was given. `model`: the served model's name (a messages file has
 * none). `retrievalUsed`: whether to retrieve when only messages are given (the request body says it itself).
 */
export function rebuildRequest(asked: AskedRequest, model: string, retrievalUsed: boolean): RebuiltRequest {
  if (asked.prompt !== undefined) return { prompt: asked.prompt, retrieval: null, sampling: null, exact: true };
  if (asked.body !== undefined) {
    const parsed =
      chatOrCompletion(asked.body) === 'chat'
        ? parseChatRequest(decodeArtifact(openloraApi.chatCompletionRequest, asked.body, '--body'))
        : parseCompletionRequest(decodeArtifact(openloraApi.completionRequest, asked.body, '--body'));
    const o = parsed.options;
    return {
      prompt: parsed.prompt,
      retrieval: o.retrieval ?? null,
      sampling: { maxTokens: parsed.maxTokens, temperature: o.temperature ?? 0, topP: o.topP ?? 1, seed: o.seed ?? 0 },
      exact: false,
    };
  }
  if (asked.messages === undefined)
    throw new BaseError('INVALID_ARGUMENT', 'Pass the request as --body FILE, --messages FILE, --message or --prompt', {
      details: { field: '--messages' },
    });
  // As the node reads messages; the default top-k is the node's too (its sampling is unknown without the body).
  const parsed = parseChatRequest(
    decodeArtifact(
      openloraApi.chatCompletionRequest,
      { model, messages: asked.messages, retrieval: true },
      '--messages',
    ),
  );
  return {
    prompt: parsed.prompt,
    retrieval: retrievalUsed ? (parsed.options.retrieval ?? null) : null,
    sampling: null,
    exact: false,
  };
}

/** The prompt the model read: the rebuilt one with the retrieval context first (null: not grounded). */
export function servedPrompt(r: RebuiltRequest, context: string | null): string {
  return r.exact ? r.prompt : groundedPrompt(r.prompt, context === null ? null : { context });
}

/** A chat prompt from one user message, as the node formats it (`--message`). */
export const oneMessage = (text: string) => [{ role: 'user', content: text }];
