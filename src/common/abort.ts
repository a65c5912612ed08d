// Cancel and timeout travel as one AbortSignal whose reason is a ConnectError.
import { ConnectError } from './errors.js';

/** The ConnectError an aborted signal stands for (`cancelled` unless its reason says otherwise). */
export function abortError(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  return new ConnectError('cancelled', 'Sign-in was cancelled.', { cause: reason });
}

/**
 * A signal that aborts when `signal` does or after `timeoutMs`, with a `timeout` or `cancelled`
 * ConnectError as its reason. Call `dispose` when done so the timer does not keep the process alive.
 */
export function attemptSignal(
  signal: AbortSignal | undefined,
  timeoutMs: number,
  timeoutMessage: string | (() => string),
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new ConnectError('timeout', typeof timeoutMessage === 'string' ? timeoutMessage : timeoutMessage())),
    timeoutMs,
  );
  const onAbort = () => controller.abort(abortError(signal as AbortSignal));
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Rejects with the signal's ConnectError when it aborts. */
export function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(abortError(signal));
    else signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}
