"""Device drivers: pure codecs plus drivers over pyserial URLs, one package per device."""
