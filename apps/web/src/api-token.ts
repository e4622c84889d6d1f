import { useSyncExternalStore } from "react";

/**
 * The server's API token (`faultline serve --token`, FAULTLINE_TOKEN), which every change made through
 * the API needs when it is set. The UI asks for it only when a change is refused, keeps it in
 * sessionStorage (this tab, until it closes: not written to disk like localStorage) and sends it as
 * `Authorization: Bearer` on API calls. Never put in a URL, never logged.
 */
const storageKey = "faultline.apiToken";
const tokenListeners = new Set<() => void>();

/** Set only when sessionStorage refused the token: it then lasts until the page is left. */
let unstoredToken: string | null = null;

export function currentApiToken(): string | null {
  let stored: string | null = null;
  try {
    stored = globalThis.sessionStorage?.getItem(storageKey) ?? null;
  } catch {}
  return stored || unstoredToken;
}

function storeApiToken(token: string | null): void {
  unstoredToken = null;
  try {
    if (token === null) sessionStorage.removeItem(storageKey);
    else sessionStorage.setItem(storageKey, token);
  } catch {
    unstoredToken = token;
  }
  for (const listener of tokenListeners) listener();
}

/** Headers for an API call: the stored token as a bearer credential, or none. */
export function apiTokenHeaders(): Record<string, string> {
  const token = currentApiToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Forgets the token (the "forget API token" button); the next change asks again. */
export function forgetApiToken(): void {
  storeApiToken(null);
}

export function useApiTokenStored(): boolean {
  return useSyncExternalStore(
    (listener) => {
      tokenListeners.add(listener);
      return () => tokenListeners.delete(listener);
    },
    () => currentApiToken() !== null,
    () => false,
  );
}

/**
 * What a token must look like to travel in an HTTP header: visible ASCII (spaces inside allowed).
 * Null when fine, else the problem in words.
 */
export function apiTokenProblem(token: string): string | null {
  if (token === "") return "Enter the token.";
  if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(token)) {
    return "A token is made of visible ASCII characters; check for stray characters.";
  }
  return null;
}

/** An open request for the token: the dialog shows while one exists. */
export interface ApiTokenRequest {
  /** Counts requests, so the dialog starts fresh for each. */
  id: number;
  /** The last token sent was refused by the server (shown as an error above the field). */
  rejected: boolean;
}

let openRequest: {
  request: ApiTokenRequest;
  answer: (token: string | null) => void;
  answered: Promise<string | null>;
} | null = null;
let requestCount = 0;
const requestListeners = new Set<() => void>();

/**
 * Asks the person for the token (the dialog) and resolves with it once stored, or null if they cancel.
 * Calls made while the dialog is open share the one answer. A refused token is forgotten first.
 */
export function requestApiToken(options: { rejected: boolean }): Promise<string | null> {
  if (options.rejected) forgetApiToken();
  if (openRequest) {
    if (options.rejected && !openRequest.request.rejected) {
      openRequest.request = { ...openRequest.request, rejected: true };
      for (const listener of requestListeners) listener();
    }
    return openRequest.answered;
  }
  let answer: (token: string | null) => void = () => {};
  const answered = new Promise<string | null>((resolve) => {
    answer = resolve;
  });
  requestCount += 1;
  openRequest = { request: { id: requestCount, rejected: options.rejected }, answer, answered };
  for (const listener of requestListeners) listener();
  return answered;
}

/** The dialog's answer: the token typed (stored before the waiting calls retry), or null on cancel. */
export function answerApiTokenRequest(token: string | null): void {
  const request = openRequest;
  if (!request) return;
  if (token !== null) storeApiToken(token);
  openRequest = null;
  for (const listener of requestListeners) listener();
  request.answer(token);
}

/** The open request for the token, if any. */
export function pendingApiTokenRequest(): ApiTokenRequest | null {
  return openRequest?.request ?? null;
}

export function useApiTokenRequest(): ApiTokenRequest | null {
  return useSyncExternalStore(
    (listener) => {
      requestListeners.add(listener);
      return () => requestListeners.delete(listener);
    },
    pendingApiTokenRequest,
    () => null,
  );
}
