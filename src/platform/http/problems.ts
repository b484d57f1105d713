/**
 * RFC 9457 problem details: the one registry mapping stable error codes to HTTP statuses.
 * Every error leaving the API goes through `toProblem`; nothing else formats errors, and no stack
 * trace or internal message ever reaches a client.
 */

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail?: string;
  /** JSON pointer-ish path of the offending input field, e.g. "amount" or "transfers/3/to". */
  readonly field?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

interface ProblemKind {
  readonly status: number;
  readonly title: string;
}

/** Stable codes. Clients may switch on `code`; never rename one. */
export const problemKinds = {
  validation_failed: { status: 400, title: "The request is malformed" },
  // 422, not 400: the JSON is well formed and may match the document (an open object admits any
  // key); the key itself is refused, as prototype pollution, never silently dropped.
  forbidden_json_key: { status: 422, title: "The body holds a __proto__ or constructor.prototype key" },
  body_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  unauthenticated: { status: 401, title: "Authentication is required" },
  invalid_credentials: { status: 401, title: "Username or password is wrong" },
  refresh_token_invalid: { status: 401, title: "The refresh token is invalid, expired or revoked" },
  forbidden: { status: 403, title: "Not allowed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflicts with an earlier request using the same id" },
  username_taken: { status: 409, title: "That username is taken" },
  review_decided: { status: 409, title: "The review was decided already (or its hold expired)" },
  last_role: { status: 409, title: "A user keeps at least one role" },
  own_admin_role: { status: 409, title: "Admins cannot revoke their own admin role" },
  rate_limited: { status: 429, title: "Too many requests" },
  // Identity: OpenID Connect sign-in and phone verification (issue 15).
  // 422, not 400: the request is well formed; what it carries (a state, a code, a token) is refused.
  oidc_sign_in_failed: { status: 422, title: "The sign-in with the identity provider failed" },
  email_not_verified: {
    status: 403,
    title: "The identity provider has not verified this email address; it cannot link to an account",
  },
  phone_taken: { status: 409, title: "That phone number belongs to another account" },
  phone_invalid: { status: 422, title: "That is not a valid phone number" },
  otp_invalid: { status: 422, title: "That code is not right" },
  otp_expired: { status: 422, title: "No code is waiting for this number any more; request a new one" },
  // Passkeys (WebAuthn): the reason is in `reason` (challenge_unknown, credential_of_another_user…).
  passkey_sign_in_failed: { status: 401, title: "The passkey sign-in was refused" },
  passkey_registration_failed: { status: 422, title: "The passkey could not be registered" },
  step_up_required: {
    status: 401,
    title: "This transfer needs a fresh passkey confirmation (Passkey-Assertion)",
  },
  // Community (Hey Blue!, issue 16): the connection rules' refusals (the same codes travel over WebSocket).
  invalid_location: { status: 400, title: "The location is out of range (latitude, longitude or accuracy)" },
  invalid_window: { status: 400, title: "The availability window is out of range" },
  location_too_vague: { status: 422, title: "The reported accuracy is too poor to use" },
  impossible_jump: {
    status: 422,
    title: "The location is too far from the previous one for the time between them",
  },
  officer_not_available: { status: 409, title: "The officer is not available (go available first)" },
  not_citizen: { status: 403, title: "Only citizens may request a connection" },
  own_request: { status: 422, title: "An officer cannot connect with themselves" },
  officer_unavailable: { status: 409, title: "That officer is not available" },
  virtual_not_allowed: { status: 422, title: "Virtual connections are not allowed" },
  location_required: { status: 409, title: "Share your location first: an in-person connection needs both" },
  not_near: { status: 422, title: "The officer is not near enough" },
  request_pending: { status: 409, title: "A request to this officer is already waiting for an answer" },
  too_many_requests: { status: 429, title: "Too many requests to this officer; wait a while" },
  pair_rewarded_recently: {
    status: 409,
    title: "This officer and citizen already made a rewarded connection in the last 24 hours",
  },
  request_not_found: { status: 404, title: "No such request for this officer" },
  request_expired: { status: 409, title: "The request expired before it was answered" },
  request_not_pending: { status: 409, title: "The request was answered already" },
  share_not_agreed: { status: 409, title: "Both participants must agree to share this connection first" },
  share_final: { status: 409, title: "Both participants agreed: the share cannot be withdrawn" },
  unavailable: { status: 503, title: "Temporarily unavailable" },
  busy: { status: 503, title: "The server is busy; try again shortly" },
  internal: { status: 500, title: "Internal error" },
  system_account: { status: 422, title: "System accounts cannot be the target of a customer's transfer" },
  // Business rejections of commands (outcome FAILED) are 422 with the reason as code.
  command_failed: { status: 422, title: "The command was rejected" },
} as const satisfies Record<string, ProblemKind>;

export type ProblemCode = keyof typeof problemKinds;

export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(
    code: ProblemCode,
    options: { detail?: string; field?: string; extra?: Record<string, unknown> } = {},
  ) {
    super(options.detail ?? problemKinds[code].title);
    this.name = "ProblemError";
    this.problem = problem(code, options);
  }
}

export function problem(
  code: ProblemCode,
  options: { detail?: string; field?: string; extra?: Record<string, unknown> } = {},
): Problem {
  const kind = problemKinds[code];
  return {
    type: `https://ledgerflow.dev/problems/${code.replaceAll("_", "-")}`,
    title: kind.title,
    status: kind.status,
    code,
    ...(options.detail === undefined ? {} : { detail: options.detail }),
    ...(options.field === undefined ? {} : { field: options.field }),
    ...options.extra,
  };
}

/** A command rejected by the domain: 422 with the domain's reason as `code`. */
export function rejectionProblem(reason: string, extra: Record<string, unknown> = {}): Problem {
  return {
    type: `https://ledgerflow.dev/problems/${reason.replaceAll("_", "-")}`,
    title: problemKinds.command_failed.title,
    status: 422,
    code: reason,
    ...extra,
  };
}
