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
 * errors: where the admin token is, and how to save a token with `nimbus login`.
 */
export function authHint(err: ApiError, credentials: Credentials | undefined): string | undefined {
  if (err.status !== 401 || (err.code !== 'UNAUTHENTICATED' && err.code !== 'INVALID_TOKEN')) return undefined;
  const url = credentials?.url;
  const login = `nimbus login${credentials && credentials.urlSource !== 'default' ? ` --url ${url}` : ''}`;
  const lines: string[] = [];
  if (credentials && credentials.tokenSource !== 'none') {
    lines.push(`The platform refused ${SOURCE[credentials.tokenSource]}${credentials.tokenFile ? ` (${credentials.tokenFile})` : ''}.`);
  }
  lines.push(
    'The admin token is in <data-dir>/admin.token on the machine running `nimbus up`' +
      ` (${LOCAL_ADMIN_TOKEN} in the folder it was started from, by default).`,
  );
  if (url && isLoopbackUrl(url)) lines.push(`Run the command from that folder, or save the token once with: ${login} < <data-dir>/admin.token`);
  else lines.push(`Save a token once with: ${login}   (or pass --token, or set NIMBUS_TOKEN)`);
  return lines.join('\n');
}
