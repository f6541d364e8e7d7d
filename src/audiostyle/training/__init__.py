"""Training: the shared loop, per-model objectives, batching, checkpoints and logs."""
