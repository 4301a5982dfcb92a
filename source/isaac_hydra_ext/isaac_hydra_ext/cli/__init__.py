"""Command-line entry points: ``train`` (Hydra) and ``play``. Importing this package imports nothing heavy."""
