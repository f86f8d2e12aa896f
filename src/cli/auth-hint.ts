import type { ApiError } from './client.js';
import { type Credentials, isLoopbackUrl, LOCAL_ADMIN_TOKEN } from './credentials.js';

const SOURCE: Record<Credentials['tokenSource'], string> = {
  '--token': 'the token given with --token',
  NIMBUS_TOKEN: 'the token in NIMBUS_TOKEN',
  config: 'the token saved by nimbus login',
  'admin.token': `the token in ${LOCAL_ADMIN_TOKEN}`,
  none: 'no token',
};

/**
 * What to do when the management API refused the CLI's token (401), or undefined for other
 * errors: which token was refused, where the CLI finds the admin token, and how to save a token
 * with `nimbus login`. The platform's message already says where the admin token is.
 */
export function authHint(err: ApiError, credentials: Credentials | undefined): string | undefined {
  if (err.status !== 401 || (err.code !== 'UNAUTHENTICATED' && err.code !== 'INVALID_TOKEN')) return undefined;
  const url = credentials?.url;
  const login = `nimbus login${credentials && credentials.urlSource !== 'default' ? ` --url ${url}` : ''}`;
  if (credentials && credentials.tokenSource !== 'none') {
    const file = credentials.tokenFile ? ` (${credentials.tokenFile})` : '';
    return `The platform refused ${SOURCE[credentials.tokenSource]}${file}. Use a valid one: the admin token in <data-dir>/admin.token, or one made with \`nimbus tokens create\`; save it with: ${login} < <token-file>`;
  }
  if (url && isLoopbackUrl(url)) {
    return `Run the command in the folder where \`nimbus up\` was started (it reads ${LOCAL_ADMIN_TOKEN} there), or save a token once with: ${login} < <data-dir>/admin.token`;
  }
  return `Save a token once with: ${login} < admin.token (the admin token is <data-dir>/admin.token on the platform's machine), or pass --token / set NIMBUS_TOKEN.`;
}
