// server.mjs — node-oidc-provider configured for dcrctl's interop tests. Written for
// github.com/dcrctl/dcrctl/client/interop, which starts it with `node server.mjs`, reads the one
// JSON line it prints on stdout when ready, and kills it when the test ends.
//
// What it runs (all on http://127.0.0.1:<free port>, loopback only):
//   - discovery (RFC 8414 / OpenID), JWKS, authorization code + PKCE, refresh tokens,
//     client credentials, device flow (RFC 8628), revocation, introspection, userinfo;
//   - dynamic client registration (RFC 7591) protected by initial access tokens, and
//     management (RFC 7592) with a registration access token rotated on every update;
//   - the development login form (devInteractions): any login name and any password sign in.
//     Consent is granted automatically (loadExistingGrant below), so a login is one form post,
//     and a second login in the same browser is silent (SSO). node-oidc-provider normally
//     asks native clients for consent on every login (its `native_client_prompt` check);
//     that check is removed here, to match the SSO behaviour dcrctl's design relies on.
//
// Initial access tokens. node-oidc-provider looks initial access tokens up in its own
// `InitialAccessToken` model. The adapter below extends that lookup, the way Curity's DCR works:
// an opaque access token that carries the scope `dcr` — from the client-credentials grant
// (model `ClientCredentials`) or from a user login (model `AccessToken`) — is accepted as an
// initial access token while it is valid. Such a token is single-use: a successful
// registration destroys it (unless DCRCTL_OP_OPTIONS sets reusableInitialAccessTokens). A
// token without the scope `dcr` is not found, which node-oidc-provider answers with 401
// invalid_token (it has no 403 insufficient_scope for registration). A classic, reusable,
// pre-minted InitialAccessToken is also created and printed (`initial_access_token`).
//
// Access tokens with scope `dcr` are for the resource indicator `urn:dcrctl:registration`
// (RFC 8707), the default resource of every token request, so that they are opaque tokens
// stored by the adapter.
//
// Input: env DCRCTL_OP_OPTIONS, a JSON object: {"rotateRegistrationAccessToken": bool (default
// true), "reusableInitialAccessTokens": bool (default false)}.
// Output: one line on stdout, then nothing else on stdout:
//   {"issuer", "bootstrap_client_id", "bootstrap_client_secret", "native_client_id",
//    "initial_access_token", "registration_resource"}
// Logs go to stderr and never contain tokens or secrets.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';

const options = { rotateRegistrationAccessToken: true, reusableInitialAccessTokens: false, ...JSON.parse(process.env.DCRCTL_OP_OPTIONS || '{}') };
const RESOURCE = 'urn:dcrctl:registration';
const DCR_SCOPE = 'dcr';

// ---- storage: one in-memory map for every model, with expiry --------------------------------
const store = new Map(); // `${model}:${id}` → { payload, expiresAt (ms) | undefined }
const now = () => Date.now();
const epoch = () => Math.floor(now() / 1000);

function get(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

// dcrScoped returns the stored payload of an access token carrying the scope dcr, if any.
function dcrScoped(id) {
  for (const model of ['ClientCredentials', 'AccessToken']) {
    const p = get(`${model}:${id}`);
    if (p && typeof p.scope === 'string' && p.scope.split(' ').includes(DCR_SCOPE) && (!p.exp || p.exp > epoch())) {
      return p;
    }
  }
  return undefined;
}

class Adapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    store.set(this.key(id), { payload, expiresAt: expiresIn ? now() + expiresIn * 1000 : undefined });
    if (payload.grantId) store.set(`grant:${payload.grantId}:${this.key(id)}`, { payload: this.key(id) });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id });
    if (payload.uid) store.set(`uid:${payload.uid}`, { payload: id });
  }

  async find(id) {
    const own = get(this.key(id));
    if (own || this.model !== 'InitialAccessToken') return own;
    // An access token with scope dcr stands in for an initial access token.
    const token = dcrScoped(id);
    if (!token) return undefined;
    return { jti: id, kind: 'InitialAccessToken', iat: token.iat, exp: token.exp };
  }

  async findByUserCode(userCode) { const id = get(`userCode:${userCode}`); return id && this.find(id); }

  async findByUid(uid) { const id = get(`uid:${uid}`); return id && this.find(id); }

  async consume(id) { const p = get(this.key(id)); if (p) p.consumed = epoch(); }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const prefix = `grant:${grantId}:`;
    for (const [k, v] of store) {
      if (k.startsWith(prefix)) { store.delete(v.payload); store.delete(k); }
    }
  }
}

// ---- keys -------------------------------------------------------------------------------
function jwk(type, opts, alg) {
  const { privateKey } = generateKeyPairSync(type, opts);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg}-${randomBytes(4).toString('hex')}` };
}
const keys = [jwk('rsa', { modulusLength: 2048 }, 'RS256'), jwk('ec', { namedCurve: 'P-256' }, 'ES256')];

// ---- interactions: login only when there is no session --------------------------------------
const policy = interactionPolicy.base();
policy.get('consent').checks.remove('native_client_prompt');

// ---- the provider -----------------------------------------------------------------------
const bootstrap = { id: 'dcrctl-bootstrap', secret: randomBytes(32).toString('base64url') };
const nativeClientID = 'dcrctl-native';

const server = createServer();
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    adapter: Adapter,
    jwks: { keys },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'profile', 'email', DCR_SCOPE],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    async findAccount(_ctx, sub) {
      return { accountId: sub, async claims() { return { sub, name: sub, email: `${sub}@example.test` }; } };
    },
    clients: [
      {
        client_id: bootstrap.id,
        client_secret: bootstrap.secret,
        client_name: 'dcrctl bootstrap (client credentials, scope dcr)',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: DCR_SCOPE,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: nativeClientID,
        client_name: 'dcrctl native (public, PKCE, loopback redirect)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        scope: `openid offline_access profile email ${DCR_SCOPE}`,
      },
    ],
    pkce: { required: () => true },
    interactions: { policy },
    clientBasedCORS: () => false,
    // Consent is implied: every requested scope is granted (development server).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      const scope = ctx.oidc.params.scope || '';
      grant.addOIDCScope(scope);
      grant.addResourceScope(RESOURCE, scope);
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== RESOURCE) throw new Provider.errors.InvalidTarget();
          return { scope: DCR_SCOPE, accessTokenFormat: 'opaque', audience: RESOURCE };
        },
      },
      registration: {
        enabled: true,
        initialAccessToken: true,
        issueRegistrationAccessToken: true,
      },
      registrationManagement: {
        enabled: true,
        rotateRegistrationAccessToken: options.rotateRegistrationAccessToken,
      },
    },
    // Vendor members that the server stores and echoes (others are ignored, RFC 7591 §2).
    extraClientMetadata: { properties: ['access_token_ttl', 'requires_consent', 'x_dcrctl_note'] },
    ttl: { ClientCredentials: 600, AccessToken: 600, InitialAccessToken: 3600, RegistrationAccessToken: 3600 },
  });

  // Derived initial access tokens are single-use, like Curity's.
  provider.on('registration_create.success', (ctx) => {
    const iat = ctx.oidc.entities.InitialAccessToken;
    if (!iat || options.reusableInitialAccessTokens || get(`InitialAccessToken:${iat.jti}`)) return;
    store.delete(`ClientCredentials:${iat.jti}`);
    store.delete(`AccessToken:${iat.jti}`);
  });
  for (const ev of ['server_error', 'registration_create.error', 'registration_update.error', 'grant.error']) {
    provider.on(ev, (_ctx, err) => console.error(`${ev}: ${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`));
  }

  const initialAccessToken = await new provider.InitialAccessToken({}).save();
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({
    issuer,
    bootstrap_client_id: bootstrap.id,
    bootstrap_client_secret: bootstrap.secret,
    native_client_id: nativeClientID,
    initial_access_token: initialAccessToken,
    registration_resource: RESOURCE,
  })}\n`);
});

// Stop with the parent: when stdin closes (the Go test ended or died), exit.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
