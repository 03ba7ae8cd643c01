"""Serving an agent: the listeners, the ASGI app, the lifespan and the drain."""
