"""Serial lock boards on an RS485 bus: pure codecs per protocol, a bus driver, a column adapter.

Adding a board protocol is one new codec module implementing `BoardProtocol` plus one line in
`protocols.PROTOCOLS`; the bus driver, the column adapter, the CLI and the stub pick it up by name.
"""
