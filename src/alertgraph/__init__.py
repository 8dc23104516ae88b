"""A self-hosted, Microsoft Graph-compatible security alerts service."""

__version__ = "0.1.0"
