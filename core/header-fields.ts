/**
 * Reading header fields as Node hands them (`IncomingHttpHeaders`: lowercase
 * names, a repeated field as an array). One home for the questions every
 * side asks of a request or an answer: does it carry a body, what is a
 * field's value as one string, and which bearer token does it present.
 */

type HeaderFields = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Whether a message carries a body (RFC 9112 §6.3): a Transfer-Encoding, or a
 * Content-Length other than "0". Cheap on purpose: the proxy asks it of every request.
 */
export function hasBody(headers: HeaderFields): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const cl = headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/** A field's value as one string: repeated lines joined with ", " (RFC 9110 §5.3). */
export function fieldValue(v: string | string[]): string;
export function fieldValue(v: string | string[] | undefined): string | undefined;
export function fieldValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

// RFC 9110 §11.4: credentials = auth-scheme 1*SP token68; the scheme is
// case-insensitive (§11.1), so `bearer` and `BEARER` are Bearer too.
const BEARER = /^bearer +(\S+) *$/i;

/**
 * The token of an `Authorization: Bearer <token>` field (RFC 6750 §2.1), or
 * undefined for any other scheme, a missing token or a repeated field. The
 * admin API and the extraction points' endpoints both read it here.
 */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return BEARER.exec(authorization)?.[1];
}
