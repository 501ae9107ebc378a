"""The pure domain: models, memory engine, context assembly, token budget.

Nothing in this package does I/O. Adapters implement the protocols in
``ports.py``; the composition root (``dl_app.wiring``) plugs them in.
"""
