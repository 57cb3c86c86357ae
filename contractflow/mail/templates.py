"""Mail templates: `<name>.<lang>.subject.txt`, `.txt` and `.html` per language, Jinja2.

HTML is autoescaped; the plain text part is not (it is not markup)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class MailTemplates:
    def __init__(self, folder: Path, default_language: str = "zh") -> None:
        self.folder = folder
        self.default_language = default_language
        self._html = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )
        self._text = Environment(
            loader=FileSystemLoader(folder), autoescape=False, undefined=StrictUndefined
        )

    def language(self, wanted: str | None) -> str:
        return wanted if wanted in LANGUAGES else self.default_language

    def render(self, name: str, language: str | None, **context: Any) -> RenderedMail:
        lang = self.language(language)
        subject = self._text.get_template(f"{name}.{lang}.subject.txt").render(**context)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=self._text.get_template(f"{name}.{lang}.txt").render(**context),
            html=self._html.get_template(f"{name}.{lang}.html").render(**context),
        )

    def page(self, name: str, language: str | None, **context: Any) -> str:
        """An HTML page (the email-link pages use the same loader and languages)."""
        return self._html.get_template(f"{name}.{self.language(language)}.html").render(**context)
