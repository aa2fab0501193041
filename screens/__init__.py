"""Kivy views of the terminal: they render view-models and forward intents, nothing more."""
