"""finemap."""
