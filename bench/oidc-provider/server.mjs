// oidc-provider issuing ES256 client-credentials JWTs, the baseline tokend is
// compared with. Prints "oidc-provider listening on HOST:PORT" once ready.
// The bench client is "bench" with secret "bench-secret" (client_secret_basic).
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 0);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: 'bench' };
const resource = 'urn:bench:api';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [signingKey] },
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  const { address, port: bound } = server.address();
  console.log(`oidc-provider listening on ${address}:${bound}`);
});
