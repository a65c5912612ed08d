// The redirect-receiver seam: how the authorization response gets back to the app. One
// implementation per redirect kind (loopback here; custom scheme, oob:auto and oob paste build on it).

/** How the attempt ended, for the receiver to tell the user (the loopback result page). */
export type SignInOutcome =
  | { ok: true; displayName?: string }
  | { ok: false; code: string; message: string };

export interface PendingRedirect {
  /** The exact redirect URI to send in the authorization request. */
  readonly redirectUri: string;
  /** The response parameters. Rejects with `timeout` or `cancelled` when the attempt's signal aborts. */
  readonly response: Promise<URLSearchParams>;
  /** Show the user how it ended (where the receiver has a way to). Never throws. */
  finish(outcome: SignInOutcome): Promise<void>;
  /** Stop receiving. Idempotent; never throws. */
  close(): Promise<void>;
}

export interface RedirectReceiver {
  /** Start receiving for one attempt. The signal carries cancel and timeout. */
  listen(signal: AbortSignal): Promise<PendingRedirect>;
}
