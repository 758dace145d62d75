"""Synthetic data generation: tasks (items -> labelled rows) run by a resumable, sharded executor."""
