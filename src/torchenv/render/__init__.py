"""Renderers: one report object, many views. Only the JSON is a contract."""
