import { QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { BrowserRouter, NavLink, Route, Routes } from "react-router";
import { UserNameField } from "./components/user-name-field.tsx";
import { ActionItemsPage } from "./pages/action-items-page.tsx";
import { ChangesPage } from "./pages/changes-page.tsx";
import { IncidentPage } from "./pages/incident-page.tsx";
import { PostmortemPage } from "./pages/postmortem-page.tsx";
import { PostmortemsPage } from "./pages/postmortems-page.tsx";
import { ReportsPage } from "./pages/reports-page.tsx";
import { ServicePage } from "./pages/service-page.tsx";
import { TriagePage } from "./pages/triage-page.tsx";
import { createApiClient, createQueryClient, TRPCProvider } from "./trpc.ts";

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
        </nav>
        <div className="topbar-right">
          <UserNameField />
        </div>
      </header>
      <main id="main">
        <Routes>
          <Route path="/" element={<TriagePage />} />
          <Route path="/incidents/:id" element={<IncidentPage />} />
          <Route path="/services/:service" element={<ServicePage />} />
          <Route path="/changes" element={<ChangesPage />} />
          <Route path="/postmortems" element={<PostmortemsPage />} />
          <Route path="/postmortems/:id" element={<PostmortemPage />} />
          <Route path="/action-items" element={<ActionItemsPage />} />
          <Route path="/reports" element={<ReportsPage />} />
          <Route path="*" element={<div className="state state-empty">No such page.</div>} />
        </Routes>
      </main>
    </div>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(() => createApiClient());
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <BrowserRouter>
          <AppRoutes />
        </BrowserRouter>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
