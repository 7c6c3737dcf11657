// The portal's app: routes under /app (the server answers its page for each of them).
import { type ComponentType, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { Loading } from "./components/Feedback";
import { Layout } from "./components/Layout";
import { ComputePage } from "./pages/ComputePage";
import { ComputesPage } from "./pages/ComputesPage";
import { DataAssetPage } from "./pages/DataAssetPage";
import { DataAssetsPage } from "./pages/DataAssetsPage";
import { DataVersionPage } from "./pages/DataVersionPage";
import { EndpointsPage } from "./pages/EndpointsPage";
import { ExperimentsPage } from "./pages/ExperimentsPage";
import { ModelPage } from "./pages/ModelPage";
import { ModelsPage } from "./pages/ModelsPage";
import { ModelVersionPage } from "./pages/ModelVersionPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RunsPage } from "./pages/RunsPage";
import "./styles.css";

// Loaded when first opened, not with the app: the overview, run and compare pages (they bring
// uPlot), an endpoint's page (its test box, keys and logs) and the designer (React Flow).
// Loaded by the router before it shows the page (not React.lazy under Suspense, which holds a
// ready page back for 300 ms after its fallback appeared).
type PageModule = Promise<{ default: ComponentType }>;
const page = (load: () => PageModule) => async () => ({ Component: (await load()).default });

const router = createBrowserRouter(
  [
    {
      element: <Layout />,
      hydrateFallbackElement: <Loading what="the page" />,
      children: [
        { index: true, lazy: page(() => import("./pages/OverviewPage")) },
        { path: "experiments", element: <ExperimentsPage /> },
        { path: "runs", element: <RunsPage /> },
        { path: "runs/:runId", lazy: page(() => import("./pages/RunPage")) },
        { path: "compare", lazy: page(() => import("./pages/ComparePage")) },
        { path: "computes", element: <ComputesPage /> },
        { path: "computes/:name", element: <ComputePage /> },
        { path: "models", element: <ModelsPage /> },
        { path: "models/:name", element: <ModelPage /> },
        { path: "models/:name/versions/:version", element: <ModelVersionPage /> },
        { path: "data", element: <DataAssetsPage /> },
        { path: "data/:name", element: <DataAssetPage /> },
        { path: "data/:name/:version", element: <DataVersionPage /> },
        { path: "endpoints", element: <EndpointsPage /> },
        { path: "endpoints/:name", lazy: page(() => import("./pages/EndpointPage")) },
        { path: "designer", lazy: page(() => import("./pages/DesignerDraftsPage")) },
        { path: "designer/:name", lazy: page(() => import("./pages/DesignerPage")) },
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
