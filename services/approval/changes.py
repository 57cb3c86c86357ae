"""Placeholder: the workflow lands in the next commit."""

from flask import Blueprint


def register(runtime):
    pass


def make_blueprint(sessions, runtime):
    return Blueprint("approval_changes", __name__)
