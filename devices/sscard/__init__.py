"""Social-security cards (ISO 7816 contact cards) read over PC/SC."""
