"""The scoring replica: one model served over HTTP (see `app`)."""
