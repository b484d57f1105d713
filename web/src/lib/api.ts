/**
 * REST client for /v1. Errors come back as RFC 9457 problem details; they are turned into an
 * ApiError carrying the stable `code` so screens can say what happened in words.
 */
import { getSession, refreshSession } from "./session.ts";

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title?: string;
  readonly detail?: string;
  readonly field?: string;
  readonly [extension: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.name = "ApiError";
    this.status = problem.status;
    this.problem = problem;
  }
}

export interface RequestOptions {
  readonly method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  readonly body?: unknown;
  /** RFC 7240 `Prefer: wait=N`: the server waits up to N seconds for the command's outcome. */
  readonly waitSeconds?: number;
  readonly signal?: AbortSignal;
  readonly anonymous?: boolean;
  /** Extra request headers (e.g. a transfer's `Passkey-Assertion`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  try {
    return await requestOnce<T>(path, options);
  } catch (error) {
    // An access token revoked or expired meanwhile: one silent refresh, then the same request again.
    if (!(error instanceof ApiError && error.status === 401 && error.problem.code === "unauthenticated"))
      throw error;
    if (options.anonymous || !(await refreshSession())) throw error;
    return requestOnce<T>(path, options);
  }
}

async function requestOnce<T>(path: string, options: RequestOptions): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {
    accept: "application/json, application/problem+json",
    ...options.headers,
  };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.waitSeconds !== undefined) headers.prefer = `wait=${options.waitSeconds}`;
  const session = options.anonymous ? undefined : getSession();
  if (session) headers.authorization = `Bearer ${session.token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError({
      status: 0,
      code: "network",
      detail: "Can't reach Ledgerflow. Check your connection.",
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const problem = (typeof body === "object" && body !== null ? body : {}) as Partial<Problem>;
    throw new ApiError({
      ...problem,
      status: response.status,
      code: problem.code ?? `http_${response.status}`,
    });
  }
  return { status: response.status, body: body as T };
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request<T>(path, signal ? { signal } : {})).body;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.problem.detail ?? error.problem.title ?? error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong";
}
