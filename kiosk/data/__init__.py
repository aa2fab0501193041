"""Data files packaged with the core, read with importlib.resources (not the working folder)."""
