"""Every problem code a service gives has a text in both of the editor's languages, and
each text uses exactly the parameters the service fills in for that code."""

from __future__ import annotations

import string

import pytest

from contractflow.workflow.problem_codes import PARAMETERS
from services.admin.i18n import LANGUAGES, MESSAGES


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_code_has_a_text_using_its_parameters(lang):
    for code, params in PARAMETERS.items():
        text = MESSAGES[lang].get(f"problem.{code}")
        assert text, f"{lang}: no text for problem code {code!r}"
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert used == set(params), (
            f"{lang}: problem.{code} uses {used}, the service gives {params}"
        )


def test_no_text_for_a_code_the_services_do_not_give():
    for lang in LANGUAGES:
        codes = {k.removeprefix("problem.") for k in MESSAGES[lang] if k.startswith("problem.")}
        assert codes == set(PARAMETERS), lang
