// The registration details the provider's client registration asks for (docs/your-provider.md): a typed model, validation with one message per field, and two outputs: the
// standard client metadata (RFC 7591 / OpenID Connect Dynamic Client Registration) and a readable
// request for a provider that registers clients by hand.
import { ConnectError } from '../common/errors.js';
import { isHttpsOrLoopback } from '../config/redirect-uri.js';
import { TECHNOLOGIES, checkRegisteredRedirectUri, defaultRedirectUris, type ApplicationType, type Technology } from '../config/redirect-defaults.js';
import { DEFAULT_SCOPE } from '../config/settings.js';
import { IDENTITY } from '../config/identity.js';

/** The details file (`--details FILE.json`) and the app's form. */
export interface ClientDetails {
  organization?: string;
  product?: string;
  /** The user-facing name, shown on the consent page. */
  displayName?: string;
  description?: string;
  contactEmail?: string;
  technology?: Technology;
  applicationType?: ApplicationType;
  clientType?: 'public' | 'confidential';
  scopes?: string[];
  /** Defaulted per technology when absent. */
  redirectUris?: string[];
  sso?: boolean;
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  logoUri?: string;
  policyUri?: string;
  tosUri?: string;
}

export interface ResolvedDetails extends Required<Pick<ClientDetails, 'technology' | 'applicationType' | 'clientType' | 'scopes' | 'redirectUris' | 'sso' | 'postLogoutRedirectUris'>> {
  organization?: string;
  product?: string;
  displayName?: string;
  description?: string;
  contactEmail?: string;
  backchannelLogoutUri?: string;
  logoUri?: string;
  policyUri?: string;
  tosUri?: string;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** Bad registration details: one problem per field. */
export class DetailsError extends ConnectError {
  override readonly name = 'DetailsError';
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[]) {
    super('invalid_client_details', problems.map((p) => `${p.field}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

const FIELDS: Record<keyof ClientDetails, 'string' | 'boolean' | 'array'> = {
  organization: 'string',
  product: 'string',
  displayName: 'string',
  description: 'string',
  contactEmail: 'string',
  technology: 'string',
  applicationType: 'string',
  clientType: 'string',
  scopes: 'array',
  redirectUris: 'array',
  sso: 'boolean',
  postLogoutRedirectUris: 'array',
  backchannelLogoutUri: 'string',
  logoUri: 'string',
  policyUri: 'string',
  tosUri: 'string',
};

const MANDATORY = ['organization', 'product', 'displayName', 'description', 'contactEmail'] as const;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export interface ValidateOptions {
  /**
   * `manual`: a request for a person at the provider, so every mandatory field of the docs is needed.
   * `dynamic`: dynamic registration, where only what the metadata carries is needed.
   */
  purpose: 'manual' | 'dynamic';
  /** The technology when the details do not say (this computer's). */
  defaultTechnology?: Technology;
  /** The client id, when known, for `<client-id>://connect/oauth2callback`. */
  clientId?: string;
}

function isHttpsUrl(value: string, loopbackHttp = false): boolean {
  try {
    const url = new URL(value);
    return loopbackHttp ? isHttpsOrLoopback(url) : url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Check every field and fill in the defaults. Throws a DetailsError listing every bad field. */
export function validateDetails(input: unknown, options: ValidateOptions): { details: ResolvedDetails; warnings: string[] } {
  const problems: FieldProblem[] = [];
  const warnings: string[] = [];
  const bad = (field: string, message: string) => problems.push({ field, message });
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new DetailsError([{ field: '(file)', message: 'must be a JSON object' }]);
  const raw = input as Record<string, unknown>;

  for (const [key, value] of Object.entries(raw)) {
    const kind = FIELDS[key as keyof ClientDetails];
    if (!kind) {
      bad(key, `is not a known field (known: ${Object.keys(FIELDS).join(', ')})`);
      continue;
    }
    const ok =
      kind === 'array' ? Array.isArray(value) && value.every((v) => typeof v === 'string') : typeof value === kind;
    if (!ok) bad(key, kind === 'array' ? 'must be an array of strings' : `must be a ${kind}`);
  }
  const text = (key: keyof ClientDetails) => (typeof raw[key] === 'string' ? (raw[key] as string).trim() : undefined);
  const list = (key: keyof ClientDetails) =>
    Array.isArray(raw[key]) && (raw[key] as unknown[]).every((v) => typeof v === 'string') ? (raw[key] as string[]).map((v) => v.trim()) : undefined;

  for (const key of MANDATORY) {
    const value = text(key);
    if (value === '' || (value === undefined && options.purpose === 'manual' && raw[key] === undefined)) {
      bad(key, 'is required by the provider');
    }
  }
  const email = text('contactEmail');
  if (email && !EMAIL.test(email)) bad('contactEmail', `"${email}" is not an e-mail address`);
  const displayName = text('displayName');
  if (displayName && displayName.length > 100) bad('displayName', 'must be at most 100 characters (it is shown on the consent page)');

  const technology = (text('technology') ?? options.defaultTechnology) as Technology | undefined;
  if (!technology) bad('technology', `is required: one of ${TECHNOLOGIES.join(', ')}`);
  else if (!TECHNOLOGIES.includes(technology)) bad('technology', `"${technology}" is not one of ${TECHNOLOGIES.join(', ')}`);
  const expectedType: ApplicationType = technology === 'web' ? 'web' : 'native';
  const applicationType = (text('applicationType') ?? expectedType) as ApplicationType;
  if (applicationType !== 'native' && applicationType !== 'web') bad('applicationType', 'must be "native" or "web"');
  else if (technology && TECHNOLOGIES.includes(technology) && applicationType !== expectedType) {
    bad('applicationType', `"${applicationType}" does not fit technology "${technology}" (expected "${expectedType}")`);
  }
  const clientType = (text('clientType') ?? (applicationType === 'web' ? 'confidential' : 'public')) as 'public' | 'confidential';
  if (clientType !== 'public' && clientType !== 'confidential') bad('clientType', 'must be "public" or "confidential"');
  else if (clientType === 'confidential' && applicationType === 'native') {
    warnings.push('clientType: a native application cannot keep a secret; register it as a public client (RFC 8252 §8.5).');
  }

  const scopes = list('scopes') ?? DEFAULT_SCOPE.split(' ');
  for (const scope of scopes) if (!scope || /\s/.test(scope)) bad('scopes', `"${scope}" is not a scope value (one word each)`);
  if (!scopes.includes('openid')) bad('scopes', 'must include "openid"');

  let redirectUris = list('redirectUris');
  if (!redirectUris && technology && TECHNOLOGIES.includes(technology)) {
    // Before registering, the client id is not known: keep the provider's own placeholder.
    const custom = ['mac', 'ios', 'android', 'windows-phone'].includes(technology);
    try {
      redirectUris = custom && !options.clientId ? ['<client-id>://connect/oauth2callback'] : defaultRedirectUris(technology, options.clientId ?? '');
    } catch (error) {
      bad('redirectUris', (error as Error).message);
    }
  }
  redirectUris ??= [];
  if (!redirectUris.length) bad('redirectUris', 'at least one redirect URI is required');
  for (const uri of redirectUris) {
    if (uri.startsWith('<client-id>://')) {
      if (options.purpose === 'dynamic') {
        bad('redirectUris', `the default "${uri}" needs the client id, which is not known before registering; give redirectUris (for example com.example.app://connect/oauth2callback)`);
      }
      continue;
    }
    try {
      // Checked against what the technology needs, so a wrong applicationType is reported once.
      checkRegisteredRedirectUri(uri, expectedType);
    } catch (error) {
      bad('redirectUris', (error as Error).message);
    }
  }

  const sso = raw.sso === true;
  const postLogoutRedirectUris = list('postLogoutRedirectUris') ?? [];
  if (sso && applicationType === 'web' && !postLogoutRedirectUris.length) {
    bad('postLogoutRedirectUris', 'single sign-on on a web client needs a post-logout redirect URI');
  }
  for (const uri of postLogoutRedirectUris) {
    if (!isHttpsUrl(uri, true)) bad('postLogoutRedirectUris', `"${uri}" must be an https URL (http only on localhost)`);
  }
  for (const key of ['backchannelLogoutUri', 'logoUri', 'policyUri', 'tosUri'] as const) {
    const value = text(key);
    if (value !== undefined && !isHttpsUrl(value)) bad(key, `"${value}" must be an https URL`);
  }

  if (problems.length) throw new DetailsError(problems);
  const details: ResolvedDetails = {
    technology: technology as Technology,
    applicationType,
    clientType,
    scopes,
    redirectUris,
    sso,
    postLogoutRedirectUris,
  };
  for (const key of [...MANDATORY, 'backchannelLogoutUri', 'logoUri', 'policyUri', 'tosUri'] as const) {
    const value = text(key);
    if (value) details[key] = value;
  }
  return { details, warnings };
}

/** The standard client metadata to register (RFC 7591 §2, OpenID Connect Registration §2). */
export function clientMetadata(details: ResolvedDetails): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    client_name: details.displayName ?? details.product ?? IDENTITY.productName,
    redirect_uris: details.redirectUris,
    application_type: details.applicationType,
    token_endpoint_auth_method: details.clientType === 'public' ? 'none' : 'client_secret_basic',
    grant_types: details.scopes.includes('offline_access') ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    scope: details.scopes.join(' '),
  };
  // Glewlwyd decides public or confidential from this field of its own, not token_endpoint_auth_method:
  // without it a public client is registered as confidential, with a secret it cannot keep.
  if (details.clientType === 'public') metadata.client_confidential = false;
  if (details.contactEmail) metadata.contacts = [details.contactEmail];
  if (details.postLogoutRedirectUris.length) metadata.post_logout_redirect_uris = details.postLogoutRedirectUris;
  if (details.backchannelLogoutUri) metadata.backchannel_logout_uri = details.backchannelLogoutUri;
  if (details.logoUri) metadata.logo_uri = details.logoUri;
  if (details.policyUri) metadata.policy_uri = details.policyUri;
  if (details.tosUri) metadata.tos_uri = details.tosUri;
  // What the standard has no field for travels as vendor fields (ignored by servers that do not know them).
  const vendor: Record<string, unknown> = {
    connect_organization: details.organization,
    connect_product: details.product,
    connect_description: details.description,
    connect_technology: details.technology,
    connect_sso: details.sso,
  };
  for (const [key, value] of Object.entries(vendor)) if (value !== undefined) metadata[key] = value;
  return metadata;
}

/** The readable request for a provider that registers clients by hand: Markdown and JSON. */
export function registrationRequest(details: ResolvedDetails): { markdown: string; json: string } {
  const rows: Array<[string, string]> = [
    ['Company/organization', details.organization ?? ''],
    ['Product/service name', details.product ?? ''],
    ['User-facing name', details.displayName ?? ''],
    ['Description', details.description ?? ''],
    ['Technical contact', details.contactEmail ?? ''],
    ['Technology/platform', details.technology],
    ['Application type', details.applicationType === 'native' ? 'Native application' : 'Web application'],
    ['OAuth client type', details.clientType === 'public' ? 'Public' : 'Confidential'],
    ['Scopes', details.scopes.join(' ')],
    ['Redirect URIs', details.redirectUris.join(', ')],
    ['Single sign-on', details.sso ? 'Yes' : 'No'],
  ];
  if (details.postLogoutRedirectUris.length) rows.push(['Post-logout redirect URIs', details.postLogoutRedirectUris.join(', ')]);
  if (details.backchannelLogoutUri) rows.push(['Back-channel logout URI', details.backchannelLogoutUri]);
  const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const markdown = [
    `# Client registration request: ${details.displayName ?? details.product ?? IDENTITY.productName}`,
    '',
    'Please register this client with the authorization server.',
    '',
    '| Field | Value |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    '',
    'The same request as standard client metadata (RFC 7591):',
    '',
    '```json',
    JSON.stringify(clientMetadata(details), null, 2),
    '```',
    '',
  ].join('\n');
  const json = `${JSON.stringify({ details, metadata: clientMetadata(details) }, null, 2)}\n`;
  return { markdown, json };
}

/** A convenience for callers that have a file's text. */
export function parseDetailsJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DetailsError([{ field: '(file)', message: `${file} is not valid JSON: ${(error as Error).message}` }]);
  }
}
