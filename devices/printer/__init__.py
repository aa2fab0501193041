"""Receipt printer over ESC/POS (python-escpos): templates, status codec, URL transports, driver."""
