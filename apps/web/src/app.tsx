import { type QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import { BrowserRouter, NavLink, Route, Routes } from "react-router";
import { ApiTokenDialog, ForgetApiTokenButton } from "./components/api-token-dialog.tsx";
import { UserNameField } from "./components/user-name-field.tsx";
import { TriagePage } from "./pages/triage-page.tsx";
import { type ApiClient, createApiClient, createQueryClient, TRPCProvider } from "./trpc.ts";

// Triage is in the first bundle (it is what on-call opens); every other page, and recharts with
// them, loads on first visit.
const ActionItemsPage = lazy(() =>
  import("./pages/action-items-page.tsx").then((module) => ({ default: module.ActionItemsPage })),
);
const ChangesPage = lazy(() =>
  import("./pages/changes-page.tsx").then((module) => ({ default: module.ChangesPage })),
);
const IncidentPage = lazy(() =>
  import("./pages/incident-page.tsx").then((module) => ({ default: module.IncidentPage })),
);
const NotificationsPage = lazy(() =>
  import("./pages/notifications-page.tsx").then((module) => ({ default: module.NotificationsPage })),
);
const PostmortemPage = lazy(() =>
  import("./pages/postmortem-page.tsx").then((module) => ({ default: module.PostmortemPage })),
);
const PostmortemTemplatesPage = lazy(() =>
  import("./pages/postmortem-templates-page.tsx").then((module) => ({
    default: module.PostmortemTemplatesPage,
  })),
);
const PostmortemsPage = lazy(() =>
  import("./pages/postmortems-page.tsx").then((module) => ({ default: module.PostmortemsPage })),
);
const ReportsPage = lazy(() =>
  import("./pages/reports-page.tsx").then((module) => ({ default: module.ReportsPage })),
);
const ServicePage = lazy(() =>
  import("./pages/service-page.tsx").then((module) => ({ default: module.ServicePage })),
);

/**
 * Routes, one per page (shareable URLs: `/incidents/:id`, `/services/:service?range=6h`,
 * `/changes?service=…&kind=…`). Add a page: a file in `src/pages/`, a `<Route>` here, and a nav link.
 */
export function AppRoutes() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" end>
          <svg viewBox="0 0 16 16" width="18" height="18" aria-hidden="true">
            <path d="M2 9 6 9 8 3 10 13 12 9 14 9" fill="none" stroke="#ff6b5a" strokeWidth="2" />
          </svg>
          Faultline
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Triage
          </NavLink>
          <NavLink to="/changes">Changes</NavLink>
          <NavLink to="/postmortems">Postmortems</NavLink>
          <NavLink to="/action-items">Action items</NavLink>
          <NavLink to="/reports">Reports</NavLink>
          <NavLink to="/notifications">Notifications</NavLink>
        </nav>
        <div className="topbar-right">
          <UserNameField />
          <ForgetApiTokenButton />
        </div>
      </header>
      <main id="main">
        <Suspense
          fallback={
            <div className="state state-loading" role="status">
              <span className="spinner" aria-hidden="true" /> Loading…
            </div>
          }
        >
          <Routes>
            <Route path="/" element={<TriagePage />} />
            <Route path="/incidents/:id" element={<IncidentPage />} />
            <Route path="/services/:service" element={<ServicePage />} />
            <Route path="/changes" element={<ChangesPage />} />
            <Route path="/postmortems" element={<PostmortemsPage />} />
            <Route path="/postmortems/templates" element={<PostmortemTemplatesPage />} />
            <Route path="/postmortems/:id" element={<PostmortemPage />} />
            <Route path="/action-items" element={<ActionItemsPage />} />
            <Route path="/reports" element={<ReportsPage />} />
            <Route path="/notifications" element={<NotificationsPage />} />
            <Route path="*" element={<div className="state state-empty">No such page.</div>} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}

/** The whole UI. main.tsx passes its clients (it may have started the first page's queries already). */
export function App(props: { queryClient?: QueryClient; trpcClient?: ApiClient }) {
  const [queryClient] = useState(() => props.queryClient ?? createQueryClient());
  const [trpcClient] = useState(() => props.trpcClient ?? createApiClient());
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <BrowserRouter>
          <AppRoutes />
          <ApiTokenDialog />
        </BrowserRouter>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
