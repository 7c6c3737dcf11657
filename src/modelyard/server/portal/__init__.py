"""What the server renders itself around the portal's single-page app (`server/spa/`): the login
(`session.py`: an API token kept in an HttpOnly cookie, which the app's API calls carry), the
old server-rendered portal's addresses as redirects into the app (`redirects.py`), and what the
few pages still rendered here share (`rendering.py`: the login page, an error page, the API
reference's frame; the security headers; the login redirect of every page route).

Clients find a run's page in the app with `services.portal_links` (re-exported here:
`portal_url`).
"""

from __future__ import annotations

from modelyard.services.portal_links import portal_url

__all__ = ["portal_url"]
