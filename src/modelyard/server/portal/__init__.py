"""The portal: Modelyard's studio in the browser, served by `modelyard server` itself.

Server-rendered Jinja2 pages (`templates/`), one CSS and one small vanilla JavaScript file
(`static/`), charts drawn as SVG by that script: nothing is fetched from the internet, so the
portal works offline. Pages need the login cookie (or no auth at all, `create_app(auth=False)`).

Clients find a run's page with `services.portal_links` (re-exported here: `portal_url`).
"""

from __future__ import annotations

from modelyard.services.portal_links import portal_url

__all__ = ["portal_url"]
