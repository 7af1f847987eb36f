"""Recorders fed by the engine's events: progress, logs, frames, figures, checkpoints, provenance."""
