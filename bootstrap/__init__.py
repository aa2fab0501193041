"""Start-up of the terminal: the command line, the one composition root, and the demo launcher.

This is the only package allowed to know every other one: it reads the configuration, builds the
adapters (devices, backend client), the core services and the Kivy app, and wires them together.
"""
