// The portal's app: routes under /app (the server answers its page for each of them).
import { lazy, StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { Loading } from "./components/Feedback";
import { Layout } from "./components/Layout";
import { ComputePage } from "./pages/ComputePage";
import { ComputesPage } from "./pages/ComputesPage";
import { ExperimentsPage } from "./pages/ExperimentsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RunsPage } from "./pages/RunsPage";
import "./styles.css";

// The run and compare pages bring uPlot: loaded when first opened, not with the app.
const RunPage = lazy(() => import("./pages/RunPage"));
const ComparePage = lazy(() => import("./pages/ComparePage"));
const OverviewPage = lazy(() => import("./pages/OverviewPage"));

const router = createBrowserRouter(
  [
    {
      element: <Layout />,
      children: [
        {
          index: true,
          element: (
            <Suspense fallback={<Loading what="the overview" />}>
              <OverviewPage />
            </Suspense>
          ),
        },
        { path: "experiments", element: <ExperimentsPage /> },
        { path: "runs", element: <RunsPage /> },
        {
          path: "runs/:runId",
          element: (
            <Suspense fallback={<Loading what="the run page" />}>
              <RunPage />
            </Suspense>
          ),
        },
        {
          path: "compare",
          element: (
            <Suspense fallback={<Loading what="the comparison" />}>
              <ComparePage />
            </Suspense>
          ),
        },
        { path: "computes", element: <ComputesPage /> },
        { path: "computes/:name", element: <ComputePage /> },
        { path: "*", element: <NotFoundPage /> },
      ],
    },
  ],
  { basename: "/app" },
);

const root = document.getElementById("root");
if (root === null) throw new Error("the page has no #root element");
createRoot(root).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
