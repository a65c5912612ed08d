// The secret-store seam: where tokens live between runs. The real one is the OS keychain; there is
// deliberately no plaintext file implementation to fall back to.

export interface SecretStore {
  /** The stored value, or null when there is none. Rejects with `keychain_unavailable`. */
  get(account: string): Promise<string | null>;
  /** Store the value. Rejects with `keychain_unavailable`. */
  set(account: string, value: string): Promise<void>;
  /** Remove the value; resolves false when there was none. Rejects with `keychain_unavailable`. */
  delete(account: string): Promise<boolean>;
  /** The accounts that have a value. Rejects with `keychain_unavailable`. */
  list(): Promise<string[]>;
}
