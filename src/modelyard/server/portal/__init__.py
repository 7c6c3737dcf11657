"""The portal: Modelyard's studio in the browser, served by `modelyard server` itself.

Server-rendered Jinja2 pages (`templates/`), one CSS and one small vanilla JavaScript file
(`static/`), charts drawn as SVG by that script: nothing is fetched from the internet, so the
portal works offline. Pages need the login cookie (or no auth at all, `create_app(auth=False)`).

This module stays light (no FastAPI import), so clients can print `portal_url` after a submit.
"""

from __future__ import annotations

from urllib.parse import quote


def portal_url(server_url: str, run_id: str) -> str:
    """The page that monitors run `run_id` on the server at `server_url`."""
    return f"{server_url.rstrip('/')}/runs/{quote(run_id, safe='')}"


__all__ = ["portal_url"]
