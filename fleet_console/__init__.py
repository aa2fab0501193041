"""The technicians' side of fleet monitoring: the console, its store and the fleet simulator.

Server side only: the terminal never imports this package. It speaks docs/fleet-protocol.md to the
terminals through an MQTT broker and keeps its own store, so a console restarted at any time
rebuilds the picture from the broker's retained messages.
"""
