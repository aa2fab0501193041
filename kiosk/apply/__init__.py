"""The citizen's apply journey: a pure state machine, its view-models, effects and store.

See docs/apply-flow.md.
"""
