/**
 * A real OpenID provider on loopback for tests: `oidc-provider` (a certified OpenID Connect
 * implementation) with one confidential client, a few accounts and its development login and
 * consent screens. It listens behind a small proxy that owns the issuer's address, so a test can
 * tamper with what the token endpoint answers (a man in the middle, or a compromised provider):
 * claims re-signed with the provider's own key, or an unsigned (`alg: none`) ID token.
 *
 * `signInOverHttp` drives the whole redirect flow with fetch and a cookie jar, as a browser would.
 */
import { generateKeyPairSync } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt, decodeProtectedHeader, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import Provider from "oidc-provider";

export interface TestAccount {
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name?: string;
}

export type Tamper =
  | { readonly kind: "claims"; readonly change: (claims: JWTPayload) => JWTPayload }
  | { readonly kind: "unsigned" }
  | { readonly kind: "forged-signature" };

export interface TestProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accounts: Map<string, TestAccount>;
  /** Applied to the next token endpoint answers until cleared. */
  tamper: Tamper | undefined;
  /** Authorization codes the token endpoint was asked to redeem (in order). */
  readonly redeemedCodes: string[];
  stop(): Promise<void>;
}

export async function startTestProvider(options: {
  readonly redirectUris: readonly string[];
  readonly accounts?: Readonly<Record<string, TestAccount>>;
}): Promise<TestProvider> {
  const proxy = createServer();
  await listen(proxy);
  const issuer = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...(privateKey.export({ format: "jwk" }) as JWK), kid: "test-key", alg: "RS256", use: "sig" };
  const accounts = new Map(Object.entries(options.accounts ?? {}));
  const clientId = "ledgerflow-test";
  const clientSecret = "test-client-secret-that-is-long-enough";
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [...options.redirectUris],
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    cookies: { keys: ["test-cookie-key-0123456789"] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // The claims of the scopes go into the ID token as Google's and Microsoft's do.
    conformIdTokenClaims: false,
    responseModes: ["query", "form_post"],
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub);
      if (account === undefined) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          email: account.email,
          email_verified: account.emailVerified,
          ...(account.name ? { name: account.name } : {}),
        }),
      };
    },
  });
  // oidc-provider logs to stderr on purpose when development features are on; tests say enough.
  provider.on("server_error", () => {});
  const inner = createServer(provider.callback());
  await listen(inner);
  const innerPort = (inner.address() as AddressInfo).port;
  const signingKey = await importJWK(jwk, "RS256");
  const state: TestProvider = {
    issuer,
    clientId,
    clientSecret,
    accounts,
    tamper: undefined,
    redeemedCodes: [],
    async stop() {
      await Promise.all([close(proxy), close(inner)]);
    },
  };
  proxy.on("request", (request, response) => {
    forward(request, response, innerPort, state, signingKey).catch((error: unknown) => {
      response.statusCode = 502;
      response.end(String(error));
    });
  });
  return state;
}

async function forward(
  request: IncomingMessage,
  response: ServerResponse,
  innerPort: number,
  state: TestProvider,
  signingKey: CryptoKey | Uint8Array,
): Promise<void> {
  const body = await readBody(request);
  const path = request.url ?? "/";
  const isToken = path.startsWith("/token");
  if (isToken) {
    const code = new URLSearchParams(body.toString()).get("code");
    if (code) state.redeemedCodes.push(code);
  }
  // node:http keeps the Host header (fetch would not): the provider names its endpoints after it.
  const answer = await new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = httpRequest(
      { host: "127.0.0.1", port: innerPort, method: request.method, path, headers: request.headers },
      resolve,
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
  let text = await readBody(answer);
  const status = answer.statusCode ?? 502;
  if (isToken && status === 200 && state.tamper)
    text = Buffer.from(await tamperTokens(text.toString(), state.tamper, signingKey));
  const headers = { ...answer.headers };
  delete headers["content-length"];
  delete headers["transfer-encoding"];
  response.writeHead(status, { ...headers, "content-length": text.length });
  response.end(text);
}

async function tamperTokens(
  json: string,
  tamper: Tamper,
  signingKey: CryptoKey | Uint8Array,
): Promise<string> {
  const tokens = JSON.parse(json) as { id_token?: string };
  const idToken = tokens.id_token;
  if (idToken === undefined) return json;
  const claims = decodeJwt(idToken);
  const header = decodeProtectedHeader(idToken);
  if (tamper.kind === "unsigned") {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    tokens.id_token = `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
  } else if (tamper.kind === "forged-signature") {
    // The claims changed without the provider's key: the signature no longer matches.
    const [head, , signature] = idToken.split(".");
    const changed = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
    tokens.id_token = `${head}.${changed}.${signature}`;
  } else {
    tokens.id_token = await new SignJWT(tamper.change({ ...claims }))
      .setProtectedHeader({ alg: "RS256", kid: header.kid ?? "test-key", typ: header.typ ?? "JWT" })
      .sign(signingKey);
  }
  return JSON.stringify(tokens);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Cookies per origin, as a browser keeps them (names and values only; enough for these flows). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const origin = new URL(url).origin;
    const jar = this.byOrigin.get(origin) ?? new Map<string, string>();
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === "" || /max-age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    this.byOrigin.set(origin, jar);
  }

  header(url: string): string {
    const jar = this.byOrigin.get(new URL(url).origin) ?? new Map();
    return [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

export interface Hop {
  readonly url: string;
  readonly response: Response;
  readonly body: string;
}

/** One request as a browser makes it: cookies sent and kept, no redirect followed. */
export async function browserRequest(
  jar: CookieJar,
  url: string,
  init: { method?: string; form?: Record<string, string> } = {},
): Promise<Hop> {
  const headers: Record<string, string> = { cookie: jar.header(url), accept: "text/html" };
  if (init.form) headers["content-type"] = "application/x-www-form-urlencoded";
  const response = await fetch(url, {
    method: init.method ?? (init.form ? "POST" : "GET"),
    headers,
    redirect: "manual",
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
  jar.store(url, response);
  return { url, response, body: await response.text() };
}

/**
 * From the platform's start URL through the provider's login and consent screens to the
 * platform's callback; stops at the callback's answer (or earlier, when a hop is not a redirect).
 * `onCallback` may change the callback URL before it is requested (an attacker's edit).
 */
export async function signInOverHttp(options: {
  readonly jar: CookieJar;
  readonly startUrl: string;
  readonly account: string;
  readonly onCallback?: (callbackUrl: URL) => URL;
  /** Stops before requesting the callback and returns its URL (to replay or tamper later). */
  readonly stopAtCallback?: boolean;
}): Promise<{ callback: Hop | undefined; callbackUrl: URL; form?: Record<string, string> }> {
  const { jar } = options;
  let hop = await browserRequest(jar, options.startUrl);
  const platformOrigin = new URL(options.startUrl).origin;
  for (let hops = 0; hops < 12; hops += 1) {
    const location = hop.response.headers.get("location");
    if (location === null) {
      const posted = formPostTo(hop, platformOrigin);
      if (posted) {
        // response_mode=form_post: the provider's page POSTs the answer to the callback.
        if (options.stopAtCallback)
          return { callback: undefined, callbackUrl: posted.url, form: posted.form };
        return {
          callback: await browserRequest(jar, posted.url.href, { form: posted.form }),
          callbackUrl: posted.url,
          form: posted.form,
        };
      }
      hop = await submitInteraction(jar, hop, options.account);
      continue;
    }
    const next = new URL(location, hop.url);
    if (next.origin === platformOrigin && next.pathname.includes("/callback")) {
      const callbackUrl = options.onCallback ? options.onCallback(next) : next;
      if (options.stopAtCallback) return { callback: undefined, callbackUrl };
      return { callback: await browserRequest(jar, callbackUrl.href), callbackUrl };
    }
    hop = await browserRequest(jar, next.href);
  }
  throw new Error(`the sign-in did not reach the callback; last hop ${hop.url} ${hop.response.status}`);
}

/** The provider's auto-submitting form_post page, when it targets the platform's callback. */
function formPostTo(
  hop: Hop,
  platformOrigin: string,
): { url: URL; form: Record<string, string> } | undefined {
  const action = /<form method="post" action="([^"]+)"/.exec(hop.body)?.[1];
  if (action === undefined) return undefined;
  const url = new URL(action.replaceAll("&amp;", "&"), hop.url);
  if (url.origin !== platformOrigin || !url.pathname.endsWith("/callback")) return undefined;
  const form: Record<string, string> = {};
  for (const input of hop.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g))
    form[input[1] as string] = (input[2] as string).replaceAll("&amp;", "&");
  return { url, form };
}

/** Fills in the provider's development login (any password) or consent form. */
async function submitInteraction(jar: CookieJar, hop: Hop, account: string): Promise<Hop> {
  const action = /<form[^>]*action="([^"]+)"/.exec(hop.body)?.[1];
  if (!action || hop.response.status !== 200)
    throw new Error(
      `expected an interaction form at ${hop.url}, got ${hop.response.status}: ${hop.body.slice(0, 300)}`,
    );
  const target = new URL(action.replaceAll("&amp;", "&"), hop.url).href;
  const prompt = /name="prompt" value="([a-z]+)"/.exec(hop.body)?.[1] ?? "consent";
  const form: Record<string, string> =
    prompt === "login" ? { prompt, login: account, password: "any" } : { prompt: "consent" };
  return browserRequest(jar, target, { form });
}
