"""The renewal service."""
