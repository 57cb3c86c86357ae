"""Shared kernel of contractflow: configuration, persistence, events, workflow runtime."""
