// Text from the provider (error codes and descriptions, claims such as name or preferred_username)
// is shown to the user. In a terminal, control characters in it could move the cursor, recolour or
// rewrite earlier lines (ANSI escapes, carriage returns), and bidirectional overrides could reorder
// what is shown. Every provider-sourced string is passed through here before it is printed as text
// (JSON output needs nothing: JSON escapes them).

/** C0 and C1 controls, DEL, and the Unicode bidirectional embedding/override/isolate controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** The text on one line, without anything a terminal would act on; at most `max` characters. */
export function printable(text: string, max = Infinity): string {
  const clean = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, Math.max(0, max - 3))}...` : clean;
}
