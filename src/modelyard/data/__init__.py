"""Data: content hashes of folders (versioning by manifest)."""
