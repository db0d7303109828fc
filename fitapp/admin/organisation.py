"""Administration: organisation (to be written)."""
