"""Lightspeed Retail X-Series API 2.0: streams declared once, walked by the version paginator."""

from possync.sources.lightspeed.source import LightspeedSource

__all__ = ["LightspeedSource"]
