/**
 * Bounds on the shape of a JSON request body, checked without recursion (issue 12): a 4 KB body
 * of 1,700 nested arrays used to overflow the stack of the recursive walkers after parsing (body
 * normaliser, NUL check) and answer 500 on every route, before authentication.
 *
 * Depth is measured on the raw text, before JSON.parse builds anything; the member count on the
 * parsed value, with an explicit stack. No request body of either API needs more than a handful of
 * levels or a few hundred values.
 */
export const MAX_JSON_DEPTH = 64;
export const MAX_JSON_MEMBERS = 10_000;

export type JsonShapeProblem = { kind: 'depth'; limit: number } | { kind: 'members'; limit: number };

/** Deepest nesting of `[`/`{` outside strings, stopping as soon as `limit` is passed. */
export function exceedsDepth(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Object members plus array items in the whole value, counted with an explicit stack. */
export function exceedsMembers(value: unknown, limit = MAX_JSON_MEMBERS): boolean {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    count += children.length;
    if (count > limit) return true;
    for (const c of children) if (c !== null && typeof c === 'object') stack.push(c);
  }
  return false;
}

/**
 * Parses a request body, or says which bound it breaks. Throws JSON.parse's SyntaxError for
 * malformed text (callers map that to their own 400).
 */
export function parseBoundedJson(text: string, limits: { depth?: number; members?: number } = {}): { value: unknown } | { problem: JsonShapeProblem } {
  const depth = limits.depth ?? MAX_JSON_DEPTH;
  if (exceedsDepth(text, depth)) return { problem: { kind: 'depth', limit: depth } };
  const value: unknown = JSON.parse(text);
  const members = limits.members ?? MAX_JSON_MEMBERS;
  if (exceedsMembers(value, members)) return { problem: { kind: 'members', limit: members } };
  return { value };
}

export function describeJsonProblem(p: JsonShapeProblem): string {
  return p.kind === 'depth'
    ? `The request body is nested deeper than ${p.limit} levels.`
    : `The request body has more than ${p.limit} keys and values.`;
}
