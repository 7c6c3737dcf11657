// Every page's frame: a skip link, the header with the navigation, the page in <main>.
import { useEffect } from "react";
import { NavLink, Outlet, useLocation } from "react-router";

const SECTIONS = [
  { to: "/", label: "Overview", end: true },
  { to: "/experiments", label: "Experiments" },
  { to: "/runs", label: "Runs" },
  { to: "/data", label: "Data" },
  { to: "/models", label: "Models" },
  { to: "/endpoints", label: "Endpoints" },
  { to: "/computes", label: "Computes" },
  { to: "/designer", label: "Designer" },
];

export function Layout() {
  const location = useLocation();
  useEffect(() => {
    // A new page: start reading at its top (the browser's own navigation would do this).
    window.scrollTo(0, 0);
  }, [location.pathname]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <NavLink to="/" className="brand" end>
          Modelyard
        </NavLink>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((section) => (
              <li key={section.to}>
                <NavLink to={section.to} end={"end" in section}>
                  {section.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="top-bar-end">
          <a href="/docs">API</a>
          {/* A plain form of this origin: the server forgets the login cookie and shows the
              login page (the request guard refuses such a post from another site's page). */}
          <form method="post" action="/logout">
            <button type="submit" className="link-button">
              Log out
            </button>
          </form>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

export function PageTitle({ children }: { children: string }) {
  useEffect(() => {
    document.title = `${children} · Modelyard`;
  }, [children]);
  return <h1>{children}</h1>;
}
