/**
 * The dashboard's credential is the API key the user types in. It is kept in sessionStorage (this tab
 * only, gone when the tab closes), sent as `X-API-KEY`, and never put in a URL or in localStorage.
 */
const KEY = 'flowscale.dashboard.apiKey';

export const savedKey = (): string | null => sessionStorage.getItem(KEY);
export const saveKey = (key: string): void => sessionStorage.setItem(KEY, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY);

/** The API root: the page lives at `<root>/dashboard/`, so this follows any path prefix the server sits behind. */
export const apiBase = (): string => new URL('..', location.href).href.replace(/\/+$/, '');
