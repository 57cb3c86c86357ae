"""Placeholder: the workflow lands in the next commit."""

from flask import Blueprint


def register(runtime):
    pass


def make_blueprint(sessions, runtime):
    return Blueprint("approval_terminations", __name__)
