"""Loss terms, the weighted objective, and its tiled evaluation."""
