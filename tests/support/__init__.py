"""Helpers shared by several areas' tests (real services started on loopback, waiting helpers)."""
