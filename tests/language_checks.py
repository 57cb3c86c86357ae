"""What a reader of a Chinese mail or page must not meet: an English phrase (two words or
more) or a code (snake_case, kebab-case) written by the workflow engine, a check or a
workflow step into the sentence. What people typed themselves (a bilingual contract
title, a name) is theirs and is left out of the search."""

from __future__ import annotations

import re

_IGNORED = (
    re.compile(r"<style.*?</style>", re.S),  # a page's CSS
    re.compile(r"<[^>]*>"),  # HTML tags and their attributes
    re.compile(r"https?://\S+"),
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    re.compile(r"\S+@\S+"),
)
_ENGLISH = (
    re.compile(r"\b[A-Za-z]{2,}(?: [a-z]{2,})+\b"),  # "notice period", "Record the ..."
    re.compile(r"\b[a-z]+(?:[_-][a-z]+)+\b"),  # "provider_breach", "contract-manager"
)


def english_in(text: str, *typed: str) -> list[str]:
    """The English phrases and codes in `text`, but for the strings in `typed`."""
    for value in sorted(typed, key=len, reverse=True):
        text = text.replace(value, " ")
    for pattern in _IGNORED:
        text = pattern.sub(" ", text)
    return [found for pattern in _ENGLISH for found in pattern.findall(text)]
