// Where connect-login writes: stdout for results, stderr for progress and errors.
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Bytes as they are (fetch's response body). */
  raw?: (bytes: Uint8Array) => void;
}
