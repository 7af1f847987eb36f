"""Applications built on the engine: the command line (and the web app, batch and video)."""
