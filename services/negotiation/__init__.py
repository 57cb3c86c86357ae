"""The negotiation service."""
