// `npm run provider`: the demo authorization server, standalone.
import { parseArgs } from 'node:util';
import { startTestProvider } from './provider.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9090' },
    'access-token-ttl': { type: 'string', default: '3600' },
    registration: { type: 'string', default: 'open' },
  },
});

const registration = values.registration;
if (registration !== 'off' && registration !== 'open' && registration !== 'managed') {
  console.error('error: --registration must be off, open or managed');
  process.exit(2);
}

const options = {
  accessTokenTtl: Number(values['access-token-ttl']),
  registration,
  // Pushed authorization requests (RFC 9126): the client checks itself at the provider before the browser opens.
  par: 'on',
  // Sign-in on another device (RFC 8628): connect-login login --device.
  deviceFlow: true,
} as const;
const wanted = Number(values.port);
const provider = await startTestProvider({ ...options, cacheable: true, port: wanted }).catch(async (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error;
  // The port is taken (another demo provider, another program): any free port, and say which.
  const elsewhere = await startTestProvider({ ...options, cacheable: true });
  console.error(`Port ${wanted} is taken; the demo provider listens on port ${elsewhere.port} instead (--port PORT picks one).`);
  return elsewhere;
});

console.log(`Demo provider running.
  issuer:              ${provider.issuer}
  public client id:    ${provider.publicClientId}
  confidential client: ${provider.confidentialClientId} (secret: ${provider.confidentialClientSecret})${
    provider.initialAccessToken ? `\n  initial access token for registration: ${provider.initialAccessToken}` : ''
  }
  users:               any login name with any password (alice and bob have names and e-mails)

Sign in with:
  npx connect-login login --issuer ${provider.issuer} --client-id ${provider.publicClientId} --profile demo

Press Ctrl+C to stop.`);

const stop = () => {
  void provider.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
