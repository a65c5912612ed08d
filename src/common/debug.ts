// Diagnostic lines for CONNECT_DEBUG=1: which step ran, which provider URL answered what, which
// keychain entry was touched. Never a token, code, secret or query string: callers pass places
// (origin and path) and names only. Off unless a sink is set (the CLI and the app set one).
let sink: ((line: string) => void) | undefined;

/** Where diagnostic lines go (undefined: nowhere). */
export function setDebugSink(next: ((line: string) => void) | undefined): void {
  sink = next;
}

export function debug(line: string): void {
  sink?.(line);
}
