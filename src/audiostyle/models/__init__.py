"""Models: the flagship and the baselines, their layers, registry and checkpoint format."""
