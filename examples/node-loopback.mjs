// A minimal Node script using the library: sign in through the system browser over a loopback
// redirect, call an API with the access token, sign out. Tokens never leave the library.
//   node examples/node-loopback.mjs ISSUER CLIENT_ID [API_URL]
import { createClient } from 'connect-desktop';

const [issuer, clientId, api] = process.argv.slice(2);
if (!issuer || !clientId) {
  console.error('usage: node examples/node-loopback.mjs ISSUER CLIENT_ID [API_URL]');
  process.exit(2);
}

const client = createClient({
  settings: { issuer, clientId, redirectUri: 'http://127.0.0.1/connect/oauth2callback' },
  profile: process.env.CONNECT_PROFILE ?? 'example',
});
client.on((event) => {
  if (event.type === 'sign-in' && event.event.type === 'browser-opening') console.log('Opening your browser to sign in...');
});

try {
  const session = await client.signIn();
  console.log(`Signed in as ${session.claims.name ?? session.sub}.`);
  if (api) {
    const response = await client.fetch(api);
    console.log(`GET ${api}: ${response.status} ${await response.text()}`);
  }
  const result = await client.signOut();
  console.log(`Signed out${result.revoked ? '; the tokens were revoked' : ''}.`);
} catch (error) {
  // ConnectError: a stable code and a sentence, never a token.
  console.error(`error: ${error.code}: ${error.message}`);
  process.exitCode = 1;
}
