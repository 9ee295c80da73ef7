"""Fallback scenarios: a topology, traffic, timed faults and assertions, run against the real parts.

``model`` is the TOML schema, ``timeline`` records what happened, ``assertions`` judges it, ``report`` writes
JUnit XML, JSON and HTML. ``qshift demo`` is the shipped story scenario run with a live dashboard.
"""
