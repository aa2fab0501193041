"""Emulated device firmware speaking the real wire protocols, for the demo and the tests."""
