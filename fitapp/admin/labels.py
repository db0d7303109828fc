"""Administration: labels (to be written)."""
