/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC, CR, BEL, newline…), DEL,
 * C1 controls (U+0080-U+009F; U+009B alone starts a CSI sequence on many terminals), the Unicode
 * line and paragraph separators, and the bidirectional overrides and isolates (which reorder
 * what is shown). Tab is left alone: it only moves the cursor forward.
 */
const ACTED_ON = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\u001b': '\\x1b', '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\0': '\\0' };

/**
 * Text from somewhere we do not control (a function's log line), made safe to print on a
 * terminal: every character the terminal would act on is replaced by a visible escape (`\x1b`,
 * `\r`, `\n`, `\u202e`…), so a line cannot clear the screen, set the window title, move the
 * cursor over what was printed before it, or start what looks like another line.
 */
export function visibleText(text: string): string {
  return text.replace(ACTED_ON, (ch) => NAMED[ch] ?? escapeCode(ch.codePointAt(0)!));
}

function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** What JSON.stringify leaves raw but a terminal acts on: DEL, C1 controls, separators, bidi controls. */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `JSON.stringify(value)`, with every character a terminal would act on written as a `\uXXXX`
 * escape: the parsed value is the same raw text, and printing the line is harmless.
 * JSON.stringify escapes C0 controls itself but not DEL, C1 controls or the Unicode separators.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(RAW_IN_JSON, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
