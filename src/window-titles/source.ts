// The window-title seam: the titles of the desktop's top-level windows, for oob:auto. One
// implementation per OS (x11.ts, win32.ts, darwin.ts), chosen in open.ts.

export interface TitleWatch {
  close(): void;
}

export interface WindowTitleSource {
  readonly name: string;
  /**
   * Calls `onTitles` with every top-level window title now, and again whenever they may have
   * changed (on an OS event where there is one, else on a poll), until the watch is closed.
   */
  watch(onTitles: (titles: string[]) => void): TitleWatch;
  /** All top-level window titles, once. */
  titles(): string[];
}

/** `onTitles`, called only when the titles differ from the last ones it was called with (for polling sources). */
export function whenChanged(onTitles: (titles: string[]) => void): (titles: string[]) => void {
  let last: string | undefined;
  return (titles) => {
    const key = titles.join('\u0000');
    if (key === last) return;
    last = key;
    onTitles(titles);
  };
}
