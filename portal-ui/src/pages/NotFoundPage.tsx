import { Link } from "react-router";
import { PageTitle } from "../components/Layout";

export function NotFoundPage() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>
        This address is no page of the portal. <Link to="/runs">See the runs</Link>.
      </p>
    </>
  );
}
