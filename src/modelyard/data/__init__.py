"""Data assets below the services: a folder's or file's content identity (`manifest`)."""
