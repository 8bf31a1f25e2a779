/**
 * Checks shared by every user-supplied string the auth service stores or
 * compares: PostgreSQL text cannot hold NUL, lone surrogates cannot be encoded
 * as UTF-8, and bidi overrides make identifiers look like something else.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

export function hasBidiControls(value: string): boolean {
  return BIDI_CONTROL.test(value);
}

/** False for strings with lone surrogates (not representable in UTF-8). */
export function isWellFormedUnicode(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** True when a string can be stored in and compared by PostgreSQL safely. */
export function isStorableText(value: string): boolean {
  return isWellFormedUnicode(value) && !value.includes('\u0000');
}
