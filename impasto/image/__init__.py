"""Images in and out: reading, colour, masks and starting images."""
