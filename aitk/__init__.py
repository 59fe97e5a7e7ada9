"""aitk: applied AI utilities on the command line."""

__version__ = "0.1.0"
