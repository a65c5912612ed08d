// The redirect-receiver seam: how the authorization response gets back to the app. One
// implementation per redirect kind: loopback.ts (an HTTP listener), custom-scheme.ts (a URL the OS
// hands over), oob-paste.ts (the user pastes the code), oob-auto.ts (the browser's window title).
import { abortError } from '../common/abort.js';
import { ConnectError, type ErrorCode } from '../common/errors.js';

/** How the attempt ended, for the receiver to tell the user (the loopback result page, a paste box). */
export type SignInOutcome =
  | { ok: true; displayName?: string; heading?: string; detail?: string }
  | { ok: false; code: ErrorCode; message: string };

/** One response handed over to the sign-in: its parameters, and a way to say how it ended. */
export interface Candidate {
  params: URLSearchParams;
  /** Called exactly once by the sign-in. Never throws. */
  settle(outcome: SignInOutcome): Promise<void>;
}

/** What a receiver knows of the attempt it receives for. */
export interface AttemptContext {
  /** The attempt's `state`: receivers that can see several responses keep only this one's. */
  state: string;
  /** The issuer, supplied as `iss` where the response cannot carry it (a pasted code). */
  issuer: string;
  /** Tell the user about a response that was seen and refused while the attempt goes on. */
  notice?: (error: ConnectError) => void;
}

export interface PendingRedirect {
  /** The exact redirect URI to send in the authorization request. */
  readonly redirectUri: string;
  /** After a candidate fails (a mistyped or cut-off code), may another one follow? */
  readonly retryable: boolean;
  /** The next response. Rejects with `timeout` or `cancelled` when the attempt's signal aborts. */
  next(): Promise<Candidate>;
  /** oob: the code the user pasted. Resolves when it signed the user in; rejects with why not. */
  submitCode?(input: string): Promise<void>;
  /** Custom scheme: the URL the OS handed to the app. Resolves when it signed the user in. */
  deliverRedirect?(url: string): Promise<void>;
  /** Stop receiving. Idempotent; never throws. */
  close(): Promise<void>;
}

export interface RedirectReceiver {
  /** Start receiving for one attempt. The signal carries cancel and timeout. */
  listen(signal: AbortSignal, context: AttemptContext): Promise<PendingRedirect>;
}

/**
 * Responses waiting for the sign-in, for receivers whose responses are pushed to them (custom
 * scheme, paste, window titles). `push` resolves or rejects with the outcome of that response.
 */
export class CandidateQueue {
  readonly #queued: Candidate[] = [];
  readonly #waiting: Array<{ resolve: (c: Candidate) => void; reject: (e: unknown) => void }> = [];
  readonly #signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener(
      'abort',
      () => {
        for (const waiter of this.#waiting.splice(0)) waiter.reject(abortError(signal));
        for (const candidate of this.#queued.splice(0)) {
          const error = abortError(signal);
          void candidate.settle({ ok: false, code: error.code, message: error.message });
        }
      },
      { once: true },
    );
  }

  push(params: URLSearchParams): Promise<void> {
    if (this.#signal.aborted) return Promise.reject(abortError(this.#signal));
    return new Promise<void>((resolve, reject) => {
      const candidate: Candidate = {
        params,
        settle: async (outcome) => {
          if (outcome.ok) resolve();
          else reject(new ConnectError(outcome.code, outcome.message));
        },
      };
      const waiter = this.#waiting.shift();
      if (waiter) waiter.resolve(candidate);
      else this.#queued.push(candidate);
    });
  }

  next(): Promise<Candidate> {
    if (this.#signal.aborted) return Promise.reject(abortError(this.#signal));
    const queued = this.#queued.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }
}
