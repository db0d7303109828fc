"""Administration: catalogue (to be written)."""
