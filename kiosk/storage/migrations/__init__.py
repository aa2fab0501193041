"""Numbered schema migrations (`NNNN_<name>.sql`), read as package resources by `kiosk.storage`.

This is a package only so that importlib.resources and PyInstaller can find the files; see
`kiosk/storage/schema.py` for the rules a new file must follow.
"""
