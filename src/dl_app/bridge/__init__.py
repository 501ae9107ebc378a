"""The bridge between the page and Python: one ``Api`` for the window and the browser."""

from .api import API_METHODS, Api, InvalidInput

__all__ = ["API_METHODS", "Api", "InvalidInput"]
