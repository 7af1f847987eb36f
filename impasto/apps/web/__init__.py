"""`impasto serve`: the local web app (Starlette), kept apart from the engine it drives."""
