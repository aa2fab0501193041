"""Serial barcode scanner: a pure suffix codec and a driver over the shared serial line."""
