"""Reference online service hall: the centre's side of the terminal's loop.

The real hall belongs to the government; this one exists so the whole loop runs on one machine,
integrators get an exact contract (docs/hall-api.md) and small centres can run it as is.
The kiosk never imports this package; it talks to it over HTTP only.
"""
