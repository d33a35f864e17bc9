/**
 * `logging.capture_bodies` (DESIGN section 11): a request's and its answer's bodies kept with its
 * record, each cut at 64 KB, with images and signatures elided (base64 that says nothing to a
 * person and can be large). Off by default; when off nothing here runs. Pure.
 */

export const MAX_CAPTURED_BYTES = 64 * 1024;

/** Signatures: always elided. */
const SIGNATURE_KEYS = ['thoughtSignature', 'thought_signature', 'signature', 'encrypted_content'];
/** Images and files: elided when long (a URL to an image is worth reading, its base64 is not). */
const IMAGE_KEYS = ['data', 'image_url', 'url', 'file_data'];
const ELIDE_FROM_CHARS = 200;

const elided = (text: string): string => `<${text.length} chars elided>`;

/** A JSON value with its images and signatures elided, as text cut at 64 KB. */
export function captureJson(value: unknown): string {
  return cut(
    JSON.stringify(value, (key, v: unknown) => {
      if (typeof v !== 'string') return v;
      if (SIGNATURE_KEYS.includes(key)) return elided(v);
      if (v.length >= ELIDE_FROM_CHARS && (IMAGE_KEYS.includes(key) || v.startsWith('data:'))) return elided(v);
      return v;
    }),
  );
}

const STRING = '"((?:[^"\\\\]|\\\\.)*)"';
const SIGNATURE_VALUE = new RegExp(`"(${SIGNATURE_KEYS.join('|')})"(\\s*:\\s*)${STRING}`, 'g');
const IMAGE_VALUE = new RegExp(`"(${IMAGE_KEYS.join('|')})"(\\s*:\\s*)"((?:[^"\\\\]|\\\\.){${ELIDE_FROM_CHARS},})"`, 'g');

/** Answer text (JSON or SSE) with the same values elided, cut at 64 KB. */
export function captureText(text: string): string {
  const elide = (_: string, key: string, colon: string, value: string): string => `"${key}"${colon}"${elided(value)}"`;
  return cut(text.replace(SIGNATURE_VALUE, elide).replace(IMAGE_VALUE, elide));
}

function cut(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CAPTURED_BYTES) return text;
  const kept = Buffer.from(text).subarray(0, MAX_CAPTURED_BYTES).toString('utf8').replace(/\uFFFD$/, '');
  return `${kept}… <cut at ${MAX_CAPTURED_BYTES} bytes>`;
}
