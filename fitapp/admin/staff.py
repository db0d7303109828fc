"""Administration: staff (to be written)."""
