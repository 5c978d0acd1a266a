// A real OAuth 2.0 authorization server for nxuskit's tests: oidc-provider on loopback.
//
// Clients: "nxuskit-test" (access tokens live 1 hour) and "nxuskit-short" (SHORT_TTL
// seconds), both native public clients (no secret, PKCE S256 required, loopback
// redirects on any port). Refresh tokens rotate, and reusing a used one revokes the grant.
// Device flow, revocation and userinfo are on. The dev login and consent pages accept any
// user name. Prints one JSON line {"issuer": ...} on stdout once it listens.
//
// Test hooks, never part of a real server: GET /_test/stats counts token grants and
// revocations; REFRESH_DELAY_MS holds refresh answers back (to widen races);
// DEVICE_INTERVAL sets the polling interval advertised for device codes, and the first
// authorization_pending answer of each device code is sent as slow_down instead.
import http from 'node:http';
import Provider from 'oidc-provider';

const SHORT_TTL = Number(process.env.SHORT_TTL || 6);
const REFRESH_DELAY_MS = Number(process.env.REFRESH_DELAY_MS || 0);
const DEVICE_INTERVAL = Number(process.env.DEVICE_INTERVAL || 1);
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const stats = { grants: {}, refresh_errors: {}, revocations: 0, device_polls: 0 };
const slowedDown = new Set();
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

const nativeClient = (clientId) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
  grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
  response_types: ['code'],
});

const server = http.createServer();
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [nativeClient('nxuskit-test'), nativeClient('nxuskit-short')],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'] },
    cookies: { keys: ['nxuskit-test-only-cookie-key'] },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    ttl: {
      AccessToken: (ctx, token, client) => (client?.clientId === 'nxuskit-short' ? SHORT_TTL : 3600),
      AuthorizationCode: 60,
      DeviceCode: 600,
      Grant: 86400,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 86400,
    },
  });

  provider.on('grant.success', (ctx) => {
    const type = ctx.oidc.params.grant_type;
    stats.grants[type] = (stats.grants[type] || 0) + 1;
  });
  provider.on('grant.error', (ctx, error) => {
    if (ctx.oidc?.params?.grant_type === 'refresh_token') {
      stats.refresh_errors[error.error] = (stats.refresh_errors[error.error] || 0) + 1;
    }
  });

  provider.use(async (ctx, next) => {
    if (ctx.path === '/_test/stats') {
      ctx.body = stats;
      return;
    }
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body) {
      ctx.body = { ...ctx.body, interval: DEVICE_INTERVAL };
    }
    if (ctx.path === '/token/revocation' && ctx.status === 200) {
      stats.revocations += 1;
    }
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const params = ctx.oidc?.params || {};
      if (params.grant_type === 'refresh_token' && REFRESH_DELAY_MS > 0) {
        await sleep(REFRESH_DELAY_MS);
      }
      if (params.grant_type === DEVICE_GRANT) {
        stats.device_polls += 1;
        if (ctx.body?.error === 'authorization_pending' && !slowedDown.has(params.device_code)) {
          slowedDown.add(params.device_code);
          ctx.body = { error: 'slow_down', error_description: 'polling too fast' };
        }
      }
    }
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
