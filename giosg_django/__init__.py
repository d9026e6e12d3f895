"""giosg live chat for Django."""

__version__ = "0.1.0"
