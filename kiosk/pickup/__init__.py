"""Citizen collection: a result waits in a compartment; a code, a signed QR or the ID card opens it.

See docs/pickup.md for the flow, the code space and the QR format.
"""
