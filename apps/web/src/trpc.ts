import type { AppRouter } from "@faultline/api";
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchStreamLink } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { apiTokenHeaders } from "./api-token.ts";
import { apiTokenLink } from "./api-token-link.ts";
import { currentUserName } from "./user-name.ts";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type Outputs = inferRouterOutputs<AppRouter>;

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * One tRPC client per page load. Every call carries the person's name (see user-name.ts) and, once
 * given, the server's API token (api-token.ts); a change refused for want of the token asks for it.
 */
export function createApiClient(baseUrl = "/trpc") {
  return createTRPCClient<AppRouter>({
    links: [
      apiTokenLink(),
      // Streamed batches: each answer renders when it is ready, not when the slowest one is.
      httpBatchStreamLink({
        url: baseUrl,
        headers: () => {
          const name = currentUserName();
          return { ...(name ? { "x-faultline-user": encodeURIComponent(name) } : {}), ...apiTokenHeaders() };
        },
      }),
    ],
  });
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Live views poll; a refetch on focus adds nothing but load.
        refetchOnWindowFocus: false,
        retry: 1,
        staleTime: 2_000,
      },
    },
  });
}
