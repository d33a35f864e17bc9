/** Hostile inputs shared by the unit, integration and soak tests of issue 17. */

type Json = Record<string, unknown>;

/** `D0 → {l: D1, r: D1}, … D19 → D20`: 2 KB that inline to 2^20 copies. */
export function doublingRefGraph(levels = 20): Json {
  const $defs: Json = {};
  for (let i = 0; i < levels; i++) $defs[`D${i}`] = { type: 'object', properties: { l: { $ref: `#/$defs/D${i + 1}` }, r: { $ref: `#/$defs/D${i + 1}` } } };
  $defs[`D${levels}`] = { type: 'string', description: 'a leaf' };
  return { type: 'object', properties: { root: { $ref: '#/$defs/D0' } }, $defs };
}
