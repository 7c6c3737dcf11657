"""The portal's single-page app (`portal-ui/`, built by `make portal` into `dist/`), served under
`/app/` beside the server-rendered portal until it replaces it."""

from modelyard.server.spa.site import APP_PREFIX, DIST_DIR, install_spa

__all__ = ["APP_PREFIX", "DIST_DIR", "install_spa"]
