/**
 * One rule for an image or file given by URL, on every front-end (OpenAI Chat `image_url`,
 * Responses `input_image` / `input_file`, Anthropic `source.url`): an `https:` URL travels upstream
 * by reference, and Google fetches it; a `data:` URL travels inline as its bytes. Anything else —
 * `file:`, `http:`, `gs:`, a relative path, a `data:` URL that is not well formed — is refused with
 * a 400 naming the field. The proxy itself never fetches a URL. Pure.
 */
import { UntranslatableError, type FilePart } from './conversation';

/** Media types by file extension. A Map: the extension is the client's string (`.constructor` too). */
const MEDIA_TYPES = new Map<string, string>([
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['heic', 'image/heic'],
  ['heif', 'image/heif'],
  ['pdf', 'application/pdf'],
  ['txt', 'text/plain'],
  ['md', 'text/markdown'],
  ['csv', 'text/csv'],
  ['json', 'application/json'],
]);

/** A media type from a file name's or URL path's extension; undefined when it has none we know. */
export function mediaTypeOfName(name: string): string | undefined {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name.split(/[?#]/)[0])?.[1]?.toLowerCase();
  return extension === undefined ? undefined : MEDIA_TYPES.get(extension);
}

/** An image URL's media type from its extension, `image/*` when it does not say. */
export const imageTypeOfUrl = (url: string): string => {
  const type = mediaTypeOfName(url);
  return type?.startsWith('image/') ? type : 'image/*';
};

const REFUSED = 'must be an https URL or a data: URL (the proxy never fetches a file itself)';

/**
 * `url` as a file part: a `data:` URL inline, an `https:` URL by reference with the media type
 * `typeOfUrl` tells (undefined: it cannot be told, a 400), anything else a 400 naming `path`.
 */
export function fileFromUrl(url: unknown, path: string, typeOfUrl: (url: string) => string | undefined): FilePart {
  if (typeof url !== 'string') throw new UntranslatableError(path, 'must be a string');
  if (/^data:/i.test(url)) return fromDataUrl(url, path);
  if (!isHttpsUrl(url)) throw new UntranslatableError(path, REFUSED);
  const mediaType = typeOfUrl(url);
  if (!mediaType) throw new UntranslatableError(path, 'the file type cannot be told from the URL: send it as a data: URL');
  return { type: 'file', mediaType, data: { url } };
}

/** Whether `url` is an absolute https URL with a host. */
export function isHttpsUrl(url: string): boolean {
  if (!/^https:\/\//i.test(url)) return false;
  try {
    return new URL(url).hostname !== '';
  } catch {
    return false;
  }
}

/** `data:<type>/<subtype>[;param…][;base64],<payload>` (RFC 2397), percent-encoded or base64. */
const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/is;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9*][a-z0-9!#$&^_.+*-]*$/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A `data:` URL as inline bytes; a malformed one is a 400 naming `path` and what is wrong. */
export function fromDataUrl(url: string, path: string): FilePart {
  const match = DATA_URL.exec(url);
  const malformed = (what: string): UntranslatableError => new UntranslatableError(path, `is a malformed data: URL (${what})`);
  if (!match) throw malformed('no comma before the data');
  const [, mediaType, params, payload] = match as unknown as [string, string, string, string];
  if (!MEDIA_TYPE.test(mediaType)) throw malformed('it needs a media type such as image/png');
  if (params.toLowerCase().split(';').includes('base64')) {
    if (!BASE64.test(payload)) throw malformed('the data is not base64');
    return { type: 'file', mediaType: mediaType.toLowerCase(), data: { base64: payload } };
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(decodeURIComponent(payload));
  } catch {
    throw malformed('a percent-escape is not valid');
  }
  return { type: 'file', mediaType: mediaType.toLowerCase(), data: { base64: bytes.toString('base64') } };
}
