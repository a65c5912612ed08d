// The app's provider settings: what the setup screen edits. Kept in a JSON file without secrets; a
// confidential client's secret goes to the keychain with the profile's client registration.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FieldProblems, RedirectKindName, SettingsInput } from './app-api.js';
import { BoundedFileError, readBoundedFileSync } from '../common/bounded-file.js';
import { DPOP_MODES, type DpopMode } from '../config/dpop-mode.js';
import { ConnectError } from '../common/errors.js';
import { customSchemeRedirectUri } from '../config/redirect-defaults.js';
import { DEFAULT_LOOPBACK_REDIRECT_URI, OOB, OOB_AUTO, classifyRedirectUri } from '../config/redirect-uri.js';
import { resolveSettings, type ProviderSettings } from '../config/settings.js';

/** Settings as stored: never a secret. */
export type StoredAppSettings = Omit<ProviderSettings, 'clientSecret'>;

export interface SettingsStore {
  /** The saved settings; null when none were saved. Throws `settings_damaged` for a file it cannot understand. */
  load(): Promise<StoredAppSettings | null>;
  /** Throws `settings_damaged` while the saved settings are damaged (start over first), `settings_not_saved` when writing fails. */
  save(settings: StoredAppSettings): Promise<void>;
  /**
   * The user chose to start over: damaged settings are moved aside to a backup next to them, and
   * its path returned. Settings that are fine, or none, are left alone (null).
   */
  startOver(): Promise<string | null>;
}

/** A settings problem that names a file, so the app can say where it is. */
export class SettingsFileError extends ConnectError {
  override readonly name = 'SettingsFileError';
  constructor(
    code: 'settings_damaged' | 'settings_not_saved',
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** What is in the file now: nothing, settings, or something that must not be silently replaced. */
type FileState = { kind: 'missing' } | { kind: 'ok'; settings: StoredAppSettings } | { kind: 'damaged'; why: string };

function inspect(path: string): FileState {
  let text: string;
  try {
    text = readBoundedFileSync(path);
  } catch (error) {
    if (error instanceof BoundedFileError) return error.problem === 'missing' ? { kind: 'missing' } : { kind: 'damaged', why: error.reason };
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file's text, which could be anything.
    return { kind: 'damaged', why: 'is not valid JSON (it may have been cut short, or written by another program)' };
  }
  const v = data as Record<string, unknown> | null;
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof v.issuer !== 'string' || typeof v.clientId !== 'string') {
    return { kind: 'damaged', why: 'does not hold provider settings (a JSON object with an "issuer" and a "clientId")' };
  }
  for (const key of ['scope', 'redirectUri'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') return { kind: 'damaged', why: `has a "${key}" that is not text` };
  }
  if (v.dpop !== undefined && !DPOP_MODES.includes(v.dpop as DpopMode)) return { kind: 'damaged', why: `has a "dpop" that is not one of ${DPOP_MODES.join(', ')}` };
  if (typeof v.redirectUri === 'string') {
    try {
      classifyRedirectUri(v.redirectUri);
    } catch {
      return { kind: 'damaged', why: 'has a redirect URI this app cannot use' };
    }
  }
  return { kind: 'ok', settings: v as unknown as StoredAppSettings };
}

const damaged = (path: string, why: string, then = '.') =>
  new SettingsFileError('settings_damaged', `The settings file "${path}" ${why}. It has been left as it is${then}`, path);

/** Why writing failed, as the user can act on it. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full. Free some space, then try again.',
  EDQUOT: 'your disk quota is used up. Free some space, then try again.',
  EROFS: 'the disk is read-only. Make it writable, then try again.',
  EACCES: 'this user may not write there. Check the folder\'s permissions, then try again.',
  EPERM: 'this user may not write there. Check the folder\'s permissions, then try again.',
};

function notSaved(path: string, lead: string, error: unknown): SettingsFileError {
  const errno = (error as NodeJS.ErrnoException).code ?? 'EIO';
  const why = WRITE_FAILURES[errno] ?? `the system refused (${errno}). Try again.`;
  return new SettingsFileError('settings_not_saved', `${lead} "${path}": ${why} The settings you had are unchanged.`, path, { cause: error });
}

/** A backup name next to the file that is not taken yet: an older backup is never overwritten. */
function backupPath(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-'); // no ':' in Windows file names
  for (let n = 1; ; n++) {
    const candidate = `${path}.damaged-${stamp}${n > 1 ? `-${n}` : ''}`;
    try {
      lstatSync(candidate);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
      throw error;
    }
  }
}

/**
 * A JSON file only this user can read, replaced atomically. A file that cannot be understood is
 * never loaded as "not configured" nor replaced by a save: the user decides (startOver keeps a copy).
 */
export function fileSettingsStore(path: string): SettingsStore {
  return {
    async load() {
      const now = inspect(path);
      if (now.kind === 'damaged') throw damaged(path, now.why);
      return now.kind === 'ok' ? now.settings : null;
    },
    async save(settings) {
      const now = inspect(path);
      if (now.kind === 'damaged') throw damaged(path, now.why, ', and the new settings were not saved: choose Start over to keep a copy of it and begin again.');
      const { clientSecret: _secret, ...safe } = settings as ProviderSettings;
      const temp = `${path}.${process.pid}.tmp`;
      let fd: number | undefined;
      try {
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(temp, 'w', 0o600);
        // writeFileSync on a descriptor goes on after a short write, so a full disk ends in ENOSPC.
        writeFileSync(fd, `${JSON.stringify(safe, null, 2)}\n`);
        // On disk before the rename: a crash or power cut then leaves the old file or the new one,
        // never a cut-short file (which the next start would find damaged).
        fsyncSync(fd);
        closeSync(fd);
        fd = undefined;
        renameSync(temp, path);
      } catch (error) {
        // The temp file goes, whatever failed; the old file was never touched.
        try {
          if (fd !== undefined) closeSync(fd);
        } catch {
          // the descriptor is gone either way
        }
        try {
          unlinkSync(temp);
        } catch {
          // never created, or already renamed
        }
        throw notSaved(path, 'The settings could not be saved to', error);
      }
    },
    async startOver() {
      if (inspect(path).kind !== 'damaged') return null;
      try {
        const backup = backupPath(path);
        renameSync(path, backup);
        return backup;
      } catch (error) {
        throw notSaved(path, 'The damaged settings could not be moved aside from', error);
      }
    },
  };
}

export function memorySettingsStore(initial: StoredAppSettings | null = null): SettingsStore {
  let current = initial;
  return {
    load: async () => current,
    save: async (settings) => {
      current = { ...settings };
    },
    // Nothing in memory is ever damaged.
    startOver: async () => null,
  };
}

export function redirectKindOf(redirectUri: string): RedirectKindName {
  return classifyRedirectUri(redirectUri).kind;
}

/** The redirect URI for a kind (the custom scheme per the provider's docs: `<client-id>://…`). */
export function redirectUriFor(kind: RedirectKindName, clientId: string, keep?: string): string {
  if (keep && redirectKindOf(keep) === kind) return keep;
  switch (kind) {
    case 'loopback':
      return DEFAULT_LOOPBACK_REDIRECT_URI;
    case 'custom-scheme':
      return customSchemeRedirectUri(clientId);
    case 'oob-auto':
      return OOB_AUTO;
    case 'oob':
      return OOB;
  }
}

const KINDS: RedirectKindName[] = ['loopback', 'custom-scheme', 'oob-auto', 'oob'];

/** One message per field of the setup form; no network. */
export function checkSettingsInput(input: SettingsInput): FieldProblems {
  const problems: FieldProblems = {};
  const issuer = input.issuer?.trim() ?? '';
  if (!issuer) problems.issuer = 'Enter the provider\'s issuer URL, or your e-mail address to find it.';
  else if (!issuer.includes('@')) {
    try {
      resolveSettings({ issuer, clientId: 'x' });
    } catch (error) {
      problems.issuer = (error as ConnectError).message;
    }
  }
  const clientId = input.clientId?.trim() ?? '';
  if (!clientId) problems.clientId = 'Enter the client id the provider gave this app.';
  if (!KINDS.includes(input.redirectKind)) problems.redirectKind = 'Choose how the browser returns to the app.';
  else if (clientId && input.redirectKind === 'custom-scheme') {
    try {
      customSchemeRedirectUri(clientId);
    } catch (error) {
      problems.redirectKind = (error as ConnectError).message;
    }
  }
  const scopes = (input.scope ?? '').trim().split(/\s+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.scope = 'The scopes must include "openid".';
  const dpop = dpopProblem(input.dpop);
  if (dpop) problems.dpop = dpop;
  return problems;
}

const dpopProblem = (dpop: unknown) =>
  dpop === undefined || DPOP_MODES.includes(dpop as DpopMode) ? undefined : `Choose ${DPOP_MODES.join(', ')} for binding the tokens to this device.`;

/** The DPoP choice to save: the form's, else the one saved before (none: the default, auto). */
export function dpopOf(input: SettingsInput, saved: StoredAppSettings): { dpop?: DpopMode } {
  const problem = dpopProblem(input.dpop);
  if (problem) throw problemsError({ dpop: problem });
  const dpop = input.dpop ?? saved.dpop;
  return dpop ? { dpop } : {};
}

export function problemsError(problems: FieldProblems): ConnectError {
  return new ConnectError('invalid_settings', Object.values(problems).join(' '));
}
