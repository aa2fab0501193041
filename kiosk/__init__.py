"""The core of the terminal: domain, workflows, storage and services. It imports no I/O library."""

__version__ = "0.1.0"
