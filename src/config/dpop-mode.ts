// The DPoP setting's values, apart from dpop.ts (which needs node:crypto) so that the app's window
// can name them too.

/** on: always (the provider must bind the tokens); off: never; auto: when the provider offers it. */
export type DpopMode = 'on' | 'off' | 'auto';
export const DPOP_MODES: readonly DpopMode[] = ['auto', 'on', 'off'];
/** Bind the tokens whenever the provider offers it. */
export const DEFAULT_DPOP_MODE: DpopMode = 'auto';
