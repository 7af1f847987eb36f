"""Optimising the pixels: the loop, optimisers, scale schedules and memory policy."""
