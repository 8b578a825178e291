"""deconv."""
