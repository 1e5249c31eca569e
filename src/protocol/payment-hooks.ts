/**
 * The contract between serving and payments. OpenLoRA calls the hooks around each generation; settlement
 * implements them; neither folder imports the other, both import these types. `A` is what `authorize` reserved
 * (settlement's channel reservation, or null for a free model): OpenLoRA keeps it without looking inside and hands
 * it back to `settle` or `abort`.
 */
import type { PaymentOutcome, ServedModel } from './http/openlora.js';

/** What payments see of a request: the generation parameters, and where a payment travels. */
export interface PayableRequest {
  prompt: string;
  /** The prompt begins with passages retrieval found in the model's DataNet (RAG evidence credits only then). */
  grounded?: boolean;
  maxTokens: number;
  /**
   * The max_tokens the request asked for (or the default), when the node shrank `maxTokens` to what its context
   * leaves after the prompt: the request's hash covers what was asked, so anyone holding the body recomputes it.
   */
  askedMaxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Request headers (the channel, the request authorization and the voucher travel in headers). */
  headers?: Record<string, string | string[] | undefined>;
  /** The JSON body as received: the request authorization signs its hash. */
  body?: unknown;
  /** The caller's caps in wei: on the whole fee, and on the royalty (the fee less the platform's part). */
  maxFee?: bigint;
  maxRoyalty?: bigint;
}

/** Before generation: the model, the prompt's size and the most it may generate. */
export interface PaymentCheck {
  model: ServedModel;
  promptTokens: number;
  maxTokens: number;
  request: PayableRequest;
  requestId: string;
}

/** After generation: what was generated for whom. */
export interface ServedAnswer {
  model: ServedModel;
  request: PayableRequest;
  requestId: string;
  output: string;
  promptTokens: number;
  completionTokens: number;
}

export interface PaymentHooks<A> {
  /** Before generation: refuse (throw) or reserve, returning what `settle` or `abort` gets back. */
  authorize(r: PaymentCheck): Promise<A>;
  /** After generation: charge and record; the payment, receipt and attribution for the answer (null: nothing paid). */
  settle(r: ServedAnswer & { authorization: A }): Promise<PaymentOutcome | null>;
  /** Generation failed after `authorize`: undo what it reserved. */
  abort(authorization: A): Promise<void>;
}

/** One request's payment, once authorized: settle it or abort it. */
export interface PaymentSession {
  settle(r: ServedAnswer): Promise<PaymentOutcome | null>;
  abort(): Promise<void>;
}

/** Payment hooks with their reservation type hidden: authorizing returns a session that holds it. */
export type PaymentGate = (r: PaymentCheck) => Promise<PaymentSession>;

/** Wraps typed hooks into a gate, so a caller keeps each reservation without knowing its type. */
export function paymentGate<A>(hooks: PaymentHooks<A>): PaymentGate {
  return async (check) => {
    const authorization = await hooks.authorize(check);
    return {
      settle: (answer) => hooks.settle({ ...answer, authorization }),
      abort: () => hooks.abort(authorization),
    };
  };
}
