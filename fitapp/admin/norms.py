"""Administration: norms (to be written)."""
