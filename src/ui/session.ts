/**
 * The signed-in token. Kept in sessionStorage: it lives as long as the tab, is not sent anywhere
 * by the browser on its own (no cookie, so no CSRF), and is gone when the tab closes.
 */
const KEY = 'nimbus.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
