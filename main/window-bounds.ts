// The window's size and place, remembered between runs and checked against the displays connected
// now: a window saved on a monitor that is gone (undocked, a projector) comes back on a display,
// never off-screen. Pure, so a test can give it any displays.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_SIZE = { width: 760, height: 680 };
export const MIN_SIZE = { width: 520, height: 420 };
/** How much of the title bar must be on a display for the saved place to count as visible. */
const VISIBLE = { width: 120, height: 40 };

/** The saved bounds file's contents, if they make sense; undefined otherwise (first run, garbage). */
export function parseSavedBounds(text: string | undefined): { width: number; height: number; x?: number; y?: number } | undefined {
  if (!text) return undefined;
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const size = (n: unknown) => Number.isInteger(n) && (n as number) >= 200 && (n as number) <= 10_000;
  const place = (n: unknown) => Number.isInteger(n) && Math.abs(n as number) <= 100_000;
  if (!saved || !size(saved.width) || !size(saved.height)) return undefined;
  const bounds = { width: saved.width as number, height: saved.height as number };
  return place(saved.x) && place(saved.y) ? { ...bounds, x: saved.x as number, y: saved.y as number } : bounds;
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * Where to open the window: the saved size, no larger than the chosen display's work area; the saved
 * place when its title bar is on a display now, otherwise centred on the primary display (the first
 * work area given).
 */
export function placeWindow(
  saved: { width: number; height: number; x?: number; y?: number } | undefined,
  workAreas: Rect[],
): { width: number; height: number; x?: number; y?: number } {
  const size = saved ?? DEFAULT_SIZE;
  const primary = workAreas[0];
  if (!primary) return { width: size.width, height: size.height };
  if (saved?.x !== undefined && saved.y !== undefined) {
    const titleBar = { x: saved.x, y: saved.y, width: saved.width, height: VISIBLE.height };
    const home = workAreas.find((area) => {
      const o = overlap(titleBar, area);
      return o.width >= Math.min(VISIBLE.width, saved.width) && o.height >= VISIBLE.height;
    });
    if (home) {
      const width = Math.max(MIN_SIZE.width, Math.min(saved.width, home.width));
      const height = Math.max(MIN_SIZE.height, Math.min(saved.height, home.height));
      // Keep it inside the display it is on (its top-left corner may stick out after a resolution change).
      const x = Math.min(Math.max(saved.x, home.x), home.x + home.width - width);
      const y = Math.min(Math.max(saved.y, home.y), home.y + home.height - height);
      return { width, height, x, y };
    }
  }
  const width = Math.max(MIN_SIZE.width, Math.min(size.width, primary.width));
  const height = Math.max(MIN_SIZE.height, Math.min(size.height, primary.height));
  return {
    width,
    height,
    x: primary.x + Math.round((primary.width - width) / 2),
    y: primary.y + Math.round((primary.height - height) / 2),
  };
}
