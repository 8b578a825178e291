"""genome."""
