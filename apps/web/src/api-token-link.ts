import type { TRPCClientError, TRPCLink } from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { observable, type Unsubscribable } from "@trpc/server/observable";
import { currentApiToken, requestApiToken } from "./api-token.ts";

/**
 * When the server refuses a change for want of its API token (UNAUTHORIZED), asks the person for the
 * token (api-token-dialog.tsx) and sends the same call again with it; a refused token asks again,
 * saying so. Cancelling lets the original error through to the page. Reads are never refused, so only
 * mutations wait here. One link for the whole client: no page handles the token itself.
 */
export function apiTokenLink<TRouter extends AnyTRPCRouter>(): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let current: Unsubscribable | undefined;
        let stopped = false;
        const attempt = () => {
          // Whether this attempt carries a token decides what the dialog says if it is refused.
          const sentToken = currentApiToken() !== null;
          current = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              if (op.type !== "mutation" || !isUnauthorized(error)) {
                observer.error(error);
                return;
              }
              void requestApiToken({ rejected: sentToken }).then((token) => {
                if (stopped) return;
                if (token === null) observer.error(error);
                else attempt();
              });
            },
          });
        };
        attempt();
        return () => {
          stopped = true;
          current?.unsubscribe();
        };
      });
}

function isUnauthorized(error: TRPCClientError<AnyTRPCRouter>): boolean {
  const data = error.data as { code?: unknown; httpStatus?: unknown } | undefined;
  return data?.code === "UNAUTHORIZED" || data?.httpStatus === 401;
}
