"""The kiosk's side of the service hall: HTTP client, outbox sender, caches, task polling.

Built only by the composition root. The core reaches all of this through `kiosk.ports.hall`
and writes its messages with `kiosk.outbox`, never by calling the hall itself.
"""
