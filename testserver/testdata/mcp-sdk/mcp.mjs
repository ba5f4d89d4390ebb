// mcp.mjs drives the MCP TypeScript SDK's client auth (@modelcontextprotocol/sdk, a
// third-party MCP client) against dcrctl serve's protected resource. It is run by
// testserver/mcpsdk_test.go, which starts the server with --resource-path /mcp and open
// registration.
//
// Input: one JSON object on stdin: {resource, username, password, redirect_uri,
// token_endpoint_auth_method (registered; default none)} and, for a
// client with a Client ID Metadata Document, client_metadata_url (the SDK's clientMetadataUrl,
// SEP-991: used as client_id instead of registering when the server advertises
// client_id_metadata_document_supported).
// Output: exactly one JSON line on stdout describing what happened. It never contains a
// secret (tokens, codes, verifiers, passwords): they are reported as booleans.
//
// Steps, as an MCP client runs them:
//   1. "unauthorized call": the SDK's withOAuth fetch calls the resource without a token; the
//      401's WWW-Authenticate names resource_metadata (RFC 9728 §5.1); the SDK's auth()
//      fetches that metadata, then the authorization server's (RFC 8414), registers a client
//      (RFC 7591, DCR) — or takes client_metadata_url as its client_id — and starts an authorization request with PKCE and resource (RFC 8707),
//      handing the URL to OAuthClientProvider.redirectToAuthorization;
//   2. "login": this script is the user's browser: it opens that URL, fills in the login
//      form (a small cookie jar, the form posted with fetch) and takes the code from the
//      redirect to redirect_uri, whose iss it records (RFC 9207; the SDK does not see it);
//   3. "token": auth() with the code: the SDK rediscovers (the path-aware well-known URL)
//      and exchanges the code, sending resource again;
//   4. "authorized call": withOAuth calls the resource with the access token;
//   5. "refresh": auth() again, as the SDK does when the resource refuses a token: with a
//      refresh token stored it rediscovers and refreshes, sending resource again;
//   6. "refreshed call": the resource with the new access token.
// Every request the SDK makes goes through a logging fetch, so the result shows where it
// went and which resource it named.
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { withOAuth } from '@modelcontextprotocol/sdk/client/middleware.js';
import { readFileSync } from 'node:fs';

const deadline = AbortSignal.timeout(45_000);

function readStdin() {
  return new Promise((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => { s += d; if (s.length > 1 << 16) reject(new Error('stdin too large')); });
    process.stdin.on('end', () => resolve(s));
    process.stdin.on('error', reject);
  });
}

// A cookie jar for the server's two cookies (dcr_csrf, dcr_session): name → value.
class Jar {
  constructor() { this.cookies = new Map(); }
  store(res) {
    for (const sc of res.headers.getSetCookie()) {
      const pair = sc.split(';')[0];
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
}

// provider is an in-memory OAuthClientProvider: what a desktop MCP client keeps on disk.
class Provider {
  constructor(redirectURI, authMethod, clientMetadataURL) {
    this.redirect = redirectURI;
    this.authMethod = authMethod ?? 'none';
    if (clientMetadataURL) this.clientMetadataUrl = clientMetadataURL;
    this.client = undefined;
    this.saved = undefined;
    this.verifier = undefined;
    this.authorizationURL = undefined;
    this.discovery = undefined;
  }
  get redirectUrl() { return this.redirect; }
  get clientMetadata() {
    return {
      client_name: 'MCP SDK interop',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: this.authMethod,
    };
  }
  state() { return 'mcp-sdk-state-1'; }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.saved; }
  saveTokens(t) { this.saved = t; }
  redirectToAuthorization(u) { this.authorizationURL = new URL(u); }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  saveDiscoveryState(s) { this.discovery = s; }
}

// requests logs every request the SDK makes: method, URL without query, the resource
// parameter it named (query or form body), if any, and how it authenticated (auth: bearer,
// basic, client_secret_post or "", never the credential).
const requests = [];
async function loggingFetch(input, init = {}) {
  const u = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  let resource = u.searchParams.get('resource');
  const headers = new Headers(init.headers);
  let auth = (headers.get('authorization') ?? '').split(' ')[0].toLowerCase();
  if (typeof init.body === 'string' || init.body instanceof URLSearchParams) {
    const b = new URLSearchParams(String(init.body));
    if (b.has('resource')) resource = b.get('resource');
    if (b.has('client_secret')) auth ||= 'client_secret_post';
  }
  const method = (init.method ?? 'GET').toUpperCase();
  const res = await fetch(input, { ...init, signal: deadline });
  requests.push({ method, url: u.origin + u.pathname, resource: resource ?? '', auth, status: res.status });
  return res;
}

// login is the user's browser: open the authorization URL, post the login form, and return
// the redirect to redirect_uri.
async function login(authURL, username, password) {
  const jar = new Jar();
  let res = await fetch(authURL, { redirect: 'manual', signal: deadline });
  jar.store(res);
  const page = await res.text();
  const form = page.match(/<form method="post" action="([^"]*)" id="login">/);
  if (res.status !== 200 || !form) {
    // An error redirect (RFC 6749 §4.1.2.1) carries no secret: say which error it names.
    const loc = res.headers.get('location');
    const q = loc ? new URL(loc, authURL).searchParams : new URLSearchParams();
    const why = q.has('error') ? `: ${q.get('error')} (${q.get('error_description') ?? ''})` : '';
    throw new Error(`the authorization URL gave ${res.status} without the login form${why}`);
  }
  const fields = new URLSearchParams();
  for (const m of page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields.append(m[1], m[2].replaceAll('&amp;', '&').replaceAll('&#34;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>'));
  }
  fields.set('username', username);
  fields.set('password', password);
  fields.set('action', 'login');
  res = await fetch(form[1].replaceAll('&amp;', '&'), {
    method: 'POST', redirect: 'manual', signal: deadline, body: fields,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
  });
  const loc = res.headers.get('location');
  if (!loc) throw new Error(`the login form post gave ${res.status} without a redirect`);
  return new URL(loc);
}

const out = { sdk: '', steps: [] };
try {
  const input = JSON.parse(await readStdin());
  out.sdk = JSON.parse(readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url))).version;
  const provider = new Provider(input.redirect_uri, input.token_endpoint_auth_method, input.client_metadata_url);
  const call = withOAuth(provider, input.resource)(loggingFetch);

  // 1. Without a token: the SDK discovers, registers and starts the authorization.
  try {
    await call(input.resource);
    throw new Error('the resource answered without a token');
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.authorizationURL) throw e;
  }
  out.steps.push('unauthorized call');
  const a = provider.authorizationURL;
  const q = a.searchParams;
  out.authorization_request = {
    endpoint: a.origin + a.pathname,
    params: [...new Set(q.keys())].sort(),
    resource: q.get('resource'),
    client_id_registered: q.get('client_id') === provider.client?.client_id,
    client_id_is_metadata_url: !!input.client_metadata_url && q.get('client_id') === input.client_metadata_url,
    code_challenge_method: q.get('code_challenge_method'),
    redirect_uri: q.get('redirect_uri'),
    scope: q.get('scope'),
  };
  out.registration = {
    client_id: typeof provider.client?.client_id === 'string' && provider.client.client_id.length > 0,
    client_secret: 'client_secret' in (provider.client ?? {}),
    token_endpoint_auth_method: provider.client?.token_endpoint_auth_method,
    redirect_uris: provider.client?.redirect_uris,
  };
  out.discovery = {
    authorization_server: provider.discovery?.authorizationServerUrl,
    resource: provider.discovery?.resourceMetadata?.resource,
    issuer: provider.discovery?.authorizationServerMetadata?.issuer,
    iss_parameter_supported: provider.discovery?.authorizationServerMetadata?.authorization_response_iss_parameter_supported === true,
    client_id_metadata_document_supported: provider.discovery?.authorizationServerMetadata?.client_id_metadata_document_supported === true,
  };

  // 2. The user logs in.
  const cb = await login(a.href, input.username, input.password);
  out.steps.push('login');
  out.callback = {
    to_redirect_uri: cb.origin + cb.pathname === input.redirect_uri,
    params: [...new Set(cb.searchParams.keys())].sort(),
    state_matches: cb.searchParams.get('state') === provider.state(),
    iss: cb.searchParams.get('iss'),
  };
  if (!cb.searchParams.get('code')) throw new Error(`no code in the redirect: ${cb.searchParams.get('error')}`);

  // 3. The SDK exchanges the code.
  const r = await auth(provider, { serverUrl: input.resource, authorizationCode: cb.searchParams.get('code'), fetchFn: loggingFetch });
  out.steps.push('token');
  const t = provider.tokens();
  out.auth_result = r;
  out.tokens = { access_token: !!t?.access_token, refresh_token: !!t?.refresh_token, token_type: t?.token_type, scope: t?.scope };

  // 4. The SDK calls the resource with the token.
  const res = await call(input.resource);
  out.steps.push('authorized call');
  out.resource_answer = { status: res.status, body: await res.json() };

  // 5. The SDK refreshes (what it does on a 401 once the access token has expired).
  const before = provider.tokens();
  out.refresh = { auth_result: await auth(provider, { serverUrl: input.resource, fetchFn: loggingFetch }) };
  out.steps.push('refresh');
  const after = provider.tokens();
  out.refresh.access_token_changed = !!after?.access_token && after.access_token !== before.access_token;
  out.refresh.refresh_token_rotated = !!after?.refresh_token && after.refresh_token !== before.refresh_token;
  out.refresh.scope = after?.scope;

  // 6. The new access token at the resource.
  const res2 = await call(input.resource);
  out.steps.push('refreshed call');
  out.refreshed_answer = { status: res2.status, body: await res2.json() };
} catch (e) {
  out.fatal = { name: e?.name ?? 'Error', message: String(e?.message ?? e) };
}
out.requests = requests;
process.stdout.write(JSON.stringify(out) + '\n');
