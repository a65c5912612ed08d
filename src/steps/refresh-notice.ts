// What a renewal tells the user while it goes on (a keychain that does not answer), apart from
// refresh.ts so that the CLI and the app can listen without loading the protocol code.

/** `waiting`: the keychain has not taken the renewed tokens yet (true), or now has (false). */
export interface RefreshNotice {
  waiting: boolean;
  message: string;
}
type NoticeListener = (notice: RefreshNotice) => void;
const noticeListeners = new Set<NoticeListener>();

/** Hear what a renewal has to tell the user while it goes on (a keychain that does not answer). */
export function onRefreshNotice(listener: NoticeListener): () => void {
  noticeListeners.add(listener);
  return () => noticeListeners.delete(listener);
}

export function notice(waiting: boolean, message: string): void {
  for (const listener of noticeListeners) {
    try {
      listener({ waiting, message });
    } catch {
      // a listener's failure is its own
    }
  }
}
