// A real OpenID provider for the resource-server tests: panva's oidc-provider (OpenID
// certified), one instance per port given, each its own issuer with freshly generated keys.
//
//   node provider.mjs <port> [<port> ...]     (client secret in SECURE_TEST_OIDC_SECRET)
//
// Clients: `notes-machine` (client credentials) and `notes-web` (authorization code with the
// development sign-in pages: any account name signs in). Resources (RFC 8707) give JWT access
// tokens for audience `notes-api`, signed RS256 (`/rs`), ES256 (`/es`), RS256 living 1 s
// (`/short`), and for audience `other-api` (`https://other-api.test/`).
// The key set at /jwks is served here: the provider's public keys, then keys a resource server
// must skip (a shared secret, an encryption key, a P-384 key, an RS512 key).
// Test hooks beside the provider: POST /__test/rotate puts new signing keys first in the set
// (the old ones stay, as in a real rotation); GET /__test/jwks-hits counts JWKS requests.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const secret = process.env.SECURE_TEST_OIDC_SECRET;
if (!secret || secret.length < 32) {
  console.error('SECURE_TEST_OIDC_SECRET (32+ characters) is required');
  process.exit(2);
}

const resources = {
  'https://notes-api.test/rs': { audience: 'notes-api', alg: 'RS256', ttl: 300 },
  'https://notes-api.test/es': { audience: 'notes-api', alg: 'ES256', ttl: 300 },
  'https://notes-api.test/short': { audience: 'notes-api', alg: 'RS256', ttl: 1 },
  'https://other-api.test/': { audience: 'other-api', alg: 'RS256', ttl: 300 },
};

function signingKeys() {
  const jwk = (pair, extra) => ({ ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), ...extra });
  return [
    jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), { use: 'sig', alg: 'RS256' }),
    jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), { use: 'sig', alg: 'ES256' }),
  ];
}

const publicJwk = ({ d, p, q, dp, dq, qi, ...pub }) => pub;
const unusable = () => {
  const pub = (pair, extra) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid: randomUUID(), ...extra });
  return [
    { kty: 'oct', k: 'c2hhcmVkLXNlY3JldC1ub3QtZm9yLXZlcmlmaWNhdGlvbg', alg: 'HS256', kid: randomUUID() },
    pub(generateKeyPairSync('rsa', { modulusLength: 2048 }), { use: 'enc', alg: 'RSA-OAEP' }),
    pub(generateKeyPairSync('ec', { namedCurve: 'P-384' }), { use: 'sig', alg: 'ES384' }),
    pub(generateKeyPairSync('rsa', { modulusLength: 2048 }), { use: 'sig', alg: 'RS512' }),
  ];
};

function makeProvider(issuer, keys) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'notes-machine',
        client_secret: secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: 'notes-web',
        client_secret: secret,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1:9/callback'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys },
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator) => {
          const rs = resources[indicator];
          if (!rs) throw new errors.InvalidTarget();
          return {
            scope: 'notes:read notes:write',
            audience: rs.audience,
            accessTokenTTL: rs.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: rs.alg } },
          };
        },
      },
    },
    // Roles as Keycloak puts them; a second factor for accounts named `mfa-*`.
    extraTokenClaims: async (ctx, token) => {
      if (!token.accountId) return { realm_access: { roles: ['notes-service'] } };
      const roles = token.accountId.startsWith('admin-') ? ['notes-admin', 'offline_access'] : ['offline_access'];
      const amr = token.accountId.startsWith('mfa-') ? ['pwd', 'mfa'] : ['pwd'];
      return { realm_access: { roles }, amr, auth_time: Math.floor(Date.now() / 1000) };
    },
  });
  provider.proxy = false;
  return provider;
}

for (const port of process.argv.slice(2)) {
  const issuer = `http://127.0.0.1:${port}`;
  let keys = signingKeys();
  let provider = makeProvider(issuer, keys);
  let jwksHits = 0;
  const extra = unusable();
  const server = http.createServer((req, res) => {
    if (req.url === '/__test/rotate' && req.method === 'POST') {
      keys = [...signingKeys().slice(0, 2), ...keys];
      provider = makeProvider(issuer, keys);
      res.writeHead(204).end();
      return;
    }
    if (req.url === '/__test/jwks-hits') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(String(jwksHits));
      return;
    }
    if (req.url === '/jwks') {
      jwksHits += 1;
      const body = JSON.stringify({ keys: [...keys.map(publicJwk), ...extra] });
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(body);
      return;
    }
    provider.callback()(req, res);
  });
  server.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider ${issuer}`));
}
