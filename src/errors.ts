/**
 * The catalogue of errors Herald answers over HTTP. Every answer carries a Matrix `errcode`
 * (spec: "Standard error response"), and the status for each code lives in one table so the
 * compiler checks that no code is left without one. docs/errors.md lists the same codes; a test
 * keeps the two in step.
 */
export type ErrCode =
  | 'M_NOT_JSON'
  | 'M_BAD_JSON'
  | 'M_TOO_LARGE'
  | 'M_UNRECOGNIZED'
  | 'M_METHOD_NOT_ALLOWED'
  | 'M_UNKNOWN'
  | 'M_OVERLOADED'
  | 'M_INTERNAL';

/** What each code means on the wire: status and the errcode string the homeserver sees. */
export const ERROR_CATALOGUE: Record<ErrCode, { status: number; errcode: string; meaning: string }> = {
  M_NOT_JSON: { status: 400, errcode: 'M_NOT_JSON', meaning: 'The body is not valid JSON (or not UTF-8).' },
  M_BAD_JSON: {
    status: 400,
    errcode: 'M_BAD_JSON',
    meaning: 'The JSON does not have the shape of a notify request; the message names the field.',
  },
  M_TOO_LARGE: {
    status: 413,
    errcode: 'M_TOO_LARGE',
    meaning: 'The body is larger than http.max_body_bytes.',
  },
  M_UNRECOGNIZED: { status: 404, errcode: 'M_UNRECOGNIZED', meaning: 'No such endpoint.' },
  M_METHOD_NOT_ALLOWED: {
    status: 405,
    errcode: 'M_UNRECOGNIZED',
    meaning: 'The endpoint exists but not for this HTTP method (spec v1.6: 405 M_UNRECOGNIZED).',
  },
  M_UNKNOWN: {
    status: 502,
    errcode: 'M_UNKNOWN',
    meaning: 'A push provider failed for at least one device; the homeserver should retry.',
  },
  M_OVERLOADED: {
    status: 503,
    errcode: 'M_UNKNOWN',
    meaning: 'An app reached its inflight_request_limit; retry after the Retry-After header.',
  },
  M_INTERNAL: { status: 500, errcode: 'M_UNKNOWN', meaning: 'A bug in Herald. Please report it.' },
};

/** An error that the HTTP layer turns into a Matrix error response. */
export class GatewayError extends Error {
  readonly code: ErrCode;
  readonly headers: Record<string, string>;

  constructor(code: ErrCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  toBody(): { errcode: string; error: string } {
    return { errcode: ERROR_CATALOGUE[this.code].errcode, error: this.message };
  }
}

/** Raised for a bad configuration; `path` is the key path the operator has to fix. */
export class ConfigError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`config: ${path}: ${message}`);
    this.name = 'ConfigError';
    this.path = path;
  }
}
