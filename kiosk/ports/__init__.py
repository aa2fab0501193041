"""Ports: the roles the core needs from the world, as typing.Protocol classes.

Adapters in devices/, backend_client/ and screens/ implement them; the core depends only on these.
"""
