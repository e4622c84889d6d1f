import { useSyncExternalStore } from "react";

/**
 * Who is acting. There is no login yet: the person types a name once, the browser keeps it in
 * localStorage, and every API call sends it (`x-faultline-user`) so acknowledgements and notes are
 * attributed in the incident timeline. Attribution, not access control.
 */
const storageKey = "faultline.userName";
const listeners = new Set<() => void>();

export function currentUserName(): string | null {
  try {
    const name = globalThis.localStorage?.getItem(storageKey)?.trim();
    return name ? name : null;
  } catch {
    return null;
  }
}

export function setUserName(name: string): void {
  const trimmed = name.trim().slice(0, 100);
  if (trimmed) localStorage.setItem(storageKey, trimmed);
  else localStorage.removeItem(storageKey);
  for (const listener of listeners) listener();
}

export function useUserName(): string | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    currentUserName,
    () => null,
  );
}
