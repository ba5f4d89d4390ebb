// interop.mjs drives openid-client (a third-party OAuth 2.0 / OpenID Connect client) against
// dcrctl's testserver. It is run by testserver/interop_test.go, which starts the server over
// HTTPS on loopback with a self-signed certificate and trusts it through NODE_EXTRA_CA_CERTS
// (so no allowInsecureRequests: openid-client runs exactly as in production).
//
// Input: one JSON object on stdin (never argv, it holds a secret):
//   {issuer, bootstrap_client_id, bootstrap_client_secret, username, password, redirect_uri}
// Output: exactly one JSON line on stdout describing what happened. It never contains a
// secret (client secrets, tokens, codes, passwords): secrets are reported as booleans or
// lengths, so that the Go test can print the result when an assertion fails.
//
// Steps: discovery; client credentials as the bootstrap client (scope dcr) = the initial access
// token; dynamic registration with it; a second registration with the same (single-use) token,
// which must fail; client credentials as the new client; an authorization code + PKCE login as
// the new client through the login page (a tiny cookie jar, the form posted with fetch); the
// ID token checked by openid-client; refresh; a second login that must be silent (SSO).
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

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

// A tiny cookie jar for one origin: name → value, honouring deletion (Max-Age<=0 or an
// Expires in the past). Good enough for the server's two cookies (dcr_csrf, dcr_session).
class Jar {
  constructor() { this.cookies = new Map(); this.attrs = new Map(); }
  store(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const a = {};
      for (const at of attrs) {
        const i = at.indexOf('=');
        const k = (i < 0 ? at : at.slice(0, i)).trim().toLowerCase();
        a[k] = i < 0 ? true : at.slice(i + 1).trim();
      }
      const gone = ('max-age' in a && Number(a['max-age']) <= 0) ||
        ('expires' in a && Date.parse(a.expires) < Date.now());
      if (gone) { this.cookies.delete(name); this.attrs.delete(name); continue; }
      this.cookies.set(name, value);
      this.attrs.set(name, a);
    }
  }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
  // flags describes a cookie's attributes without its value.
  flags(name) {
    const a = this.attrs.get(name);
    if (!a) return null;
    return { httponly: a.httponly === true, secure: a.secure === true, samesite: String(a.samesite ?? '').toLowerCase(), path: a.path ?? '' };
  }
}

function unescapeHTML(s) {
  return s.replace(/&(#(\d+)|#x([0-9a-fA-F]+)|amp|lt|gt|quot|apos);/g, (m, _e, dec, hex) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" }[m];
  });
}

// browserGet follows the authorization URL like a browser with cookies, without following
// the redirect back to the application. If a login form comes, it is filled in and posted.
async function browserLogin(jar, authURL, issuer, username, password) {
  const out = { login_page: false, form_action: '', hidden_fields: [], status: 0 };
  let res = await fetch(authURL, { redirect: 'manual', headers: { cookie: jar.header() }, signal: deadline });
  jar.store(res);
  const html = res.status === 200 ? await res.text() : (await res.arrayBuffer(), '');
  out.first_status = res.status;
  if (res.status === 200 && /<form[^>]*id="login"/.test(html)) {
    out.login_page = true;
    const form = html.match(/<form[^>]*id="login"[^>]*>/)[0];
    out.form_method = (form.match(/method="([^"]*)"/) ?? [])[1] ?? '';
    out.form_action = unescapeHTML((form.match(/action="([^"]*)"/) ?? [])[1] ?? '');
    const body = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
      body.set(unescapeHTML(m[1]), unescapeHTML(m[2]));
    }
    out.hidden_fields = [...body.keys()].sort();
    out.csrf_matches_cookie = body.get('csrf_token') === jar.cookies.get('dcr_csrf');
    body.set('username', username);
    body.set('password', password);
    res = await fetch(new URL(out.form_action, issuer), {
      method: 'POST', redirect: 'manual', body,
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      signal: deadline,
    });
    jar.store(res);
    await res.arrayBuffer();
  }
  out.status = res.status;
  out.location = res.headers.get('location') ?? '';
  return out;
}

// describeLocation reports a callback URL without the code's value.
function describeLocation(loc, redirectURI) {
  const u = new URL(loc);
  return {
    to_redirect_uri: `${u.origin}${u.pathname}` === redirectURI,
    params: [...u.searchParams.keys()].sort(),
    iss: u.searchParams.get('iss'),
  };
}

function tokenShape(t) {
  return {
    access_token: typeof t.access_token === 'string' && t.access_token.length >= 32,
    token_type: t.token_type,
    scope: t.scope ?? '',
    expires_in_positive: typeof t.expires_in === 'number' && t.expires_in > 0,
    refresh_token: typeof t.refresh_token === 'string' && t.refresh_token.length >= 32,
    id_token: typeof t.id_token === 'string',
  };
}

// errShape describes an openid-client error: a ResponseBodyError carries the OAuth error in
// error/error_description, a WWWAuthenticateChallengeError in its parsed challenges (cause).
function errShape(e) {
  let error = e?.error ?? '';
  let desc = e?.error_description;
  let scheme = '';
  if (Array.isArray(e?.cause) && e.cause.length > 0) {
    scheme = e.cause[0].scheme ?? '';
    error = e.cause[0].parameters?.error ?? error;
    desc = e.cause[0].parameters?.error_description ?? desc;
  }
  return {
    name: e?.name ?? '', code: e?.code ?? '',
    status: e?.status ?? e?.cause?.status ?? 0,
    challenge: scheme, error,
    has_description: typeof desc === 'string' && desc.length > 0,
  };
}

async function main() {
  const input = JSON.parse(await readStdin());
  const issuer = new URL(input.issuer);
  const pkg = JSON.parse(readFileSync(new URL('./node_modules/openid-client/package.json', import.meta.url), 'utf8'));
  const result = { openid_client: pkg.version, steps: [] };
  const step = (name) => result.steps.push(name);

  // 1. Discovery (OpenID Connect Discovery; openid-client validates the issuer).
  const boot = await client.discovery(issuer, input.bootstrap_client_id, input.bootstrap_client_secret,
    client.ClientSecretBasic(input.bootstrap_client_secret), { timeout: 20 });
  const md = boot.serverMetadata();
  result.discovery = {
    issuer: md.issuer,
    registration_endpoint: md.registration_endpoint,
    token_endpoint: md.token_endpoint,
    authorization_endpoint: md.authorization_endpoint,
    jwks_uri: md.jwks_uri,
    code_challenge_methods_supported: md.code_challenge_methods_supported,
    iss_parameter_supported: md.authorization_response_iss_parameter_supported === true,
  };
  step('discovery');

  // 2. The initial access token: client credentials as the bootstrap client, scope dcr.
  const iat = await client.clientCredentialsGrant(boot, { scope: 'dcr' });
  result.initial_token = tokenShape(iat);
  step('initial token');

  // 3. Dynamic client registration with that token.
  const clientMetadata = {
    client_name: 'openid-client interop',
    redirect_uris: [input.redirect_uri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid profile email offline_access',
  };
  const app = await client.dynamicClientRegistration(issuer, clientMetadata, undefined, {
    initialAccessToken: iat.access_token, timeout: 20,
  });
  const reg = app.clientMetadata();
  result.registration = {
    client_id_length: reg.client_id.length,
    client_secret: typeof reg.client_secret === 'string' && reg.client_secret.length >= 32,
    registration_access_token: typeof reg.registration_access_token === 'string' && reg.registration_access_token.length >= 32,
    registration_client_uri: reg.registration_client_uri === `${md.registration_endpoint}/${reg.client_id}`,
    client_id_issued_at: typeof reg.client_id_issued_at === 'number' && reg.client_id_issued_at > 0,
    client_secret_expires_at: reg.client_secret_expires_at,
    client_name: reg.client_name,
    redirect_uris: reg.redirect_uris,
    grant_types: reg.grant_types,
    response_types: reg.response_types,
    token_endpoint_auth_method: reg.token_endpoint_auth_method,
    scope: reg.scope,
  };
  result.client_id = reg.client_id;
  step('registration');

  // The initial access token is single-use: a second registration with it must fail.
  try {
    await client.dynamicClientRegistration(issuer, clientMetadata, undefined, { initialAccessToken: iat.access_token, timeout: 20 });
    result.reused_initial_token = { error: 'none: the second registration succeeded' };
  } catch (e) {
    result.reused_initial_token = errShape(e);
  }
  step('reused initial token');

  // The new client authenticates with client_secret_basic from now on.
  const cfg = new client.Configuration(md, reg.client_id, reg, client.ClientSecretBasic(reg.client_secret));

  // 4. Client credentials as the new client.
  result.client_credentials = tokenShape(await client.clientCredentialsGrant(cfg, { scope: 'profile' }));
  step('client credentials');

  // 5. Authorization code + PKCE through the login page, then a silent second login (SSO).
  const jar = new Jar();
  const logins = [];
  let refresh = '';
  for (let i = 0; i < 2; i++) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authURL = client.buildAuthorizationUrl(cfg, {
      redirect_uri: input.redirect_uri,
      scope: 'openid profile offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state, nonce,
    });
    const b = await browserLogin(jar, authURL, issuer, input.username, input.password);
    const login = {
      login_page: b.login_page, first_status: b.first_status, status: b.status,
      form_method: b.form_method ?? '', form_action: b.form_action, hidden_fields: b.hidden_fields,
      csrf_matches_cookie: b.csrf_matches_cookie ?? null,
    };
    if (b.location) {
      login.callback = describeLocation(b.location, input.redirect_uri);
      const tokens = await client.authorizationCodeGrant(cfg, new URL(b.location), {
        pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
      });
      login.tokens = tokenShape(tokens);
      const claims = tokens.claims();
      login.id_token = {
        iss: claims.iss, sub: claims.sub, aud: claims.aud, nonce_matches: claims.nonce === nonce,
        auth_time: typeof claims.auth_time === 'number', at_hash: typeof claims.at_hash === 'string',
      };
      if (i === 0) {
        refresh = tokens.refresh_token;
        login.session_cookie = jar.flags('dcr_session');
      }
    }
    logins.push(login);
    step(`login ${i + 1}`);
  }
  result.logins = logins;

  // 6. Refresh (rotating): the new refresh token differs from the old one; the old one is dead.
  const r1 = await client.refreshTokenGrant(cfg, refresh);
  result.refresh = { ...tokenShape(r1), rotated: r1.refresh_token !== refresh };
  try {
    await client.refreshTokenGrant(cfg, refresh);
    result.refresh.old_refresh_token = { error: 'none: the rotated refresh token still worked' };
  } catch (e) {
    result.refresh.old_refresh_token = errShape(e);
  }
  step('refresh');

  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  // One JSON line even on failure, with the error's shape (no secrets: openid-client errors
  // carry codes and descriptions, not credentials).
  process.stdout.write(JSON.stringify({ fatal: { message: String(e?.message ?? e), ...errShape(e) } }) + '\n');
  process.exitCode = 1;
});
