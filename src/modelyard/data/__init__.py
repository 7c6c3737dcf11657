"""Data by content: a folder's or a file's identity is the hash of its manifest."""
