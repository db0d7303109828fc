"""Administration: retention (to be written)."""
