"""What a definition problem is, as a code with parameters, besides its English reason.

A page shows a problem in its reader's language from the code and the parameters (the
admin editor has a Chinese and an English text for every code here); the reason stays as
it was, for logs, dead letters and clients that show text as it is. A problem without a
code (a parser's own message) is shown by its reason.
"""

from __future__ import annotations

XML_MALFORMED = "xml_malformed"
DOCTYPE_REFUSED = "doctype_refused"
NO_PROCESS = "no_process"
PROCESS_NOT_EXECUTABLE = "process_not_executable"
ELEMENT_UNSUPPORTED = "element_unsupported"
ENGINE_REFUSED = "engine_refused"
EXPRESSION_REFUSED = "expression_refused"
START_TIMER_NOT_ISO = "start_timer_not_iso"
FORM_UNKNOWN = "form_unknown"
OPERATION_UNKNOWN = "operation_unknown"
THROW_UNMAPPED = "throw_unmapped"
DMN_UNPARSEABLE = "dmn_unparseable"

# The parameters each code fills in (all strings), in the order a sentence names them.
PARAMETERS: dict[str, tuple[str, ...]] = {
    XML_MALFORMED: ("line", "detail"),
    DOCTYPE_REFUSED: (),
    NO_PROCESS: (),
    PROCESS_NOT_EXECUTABLE: ("process",),
    ELEMENT_UNSUPPORTED: ("element",),
    ENGINE_REFUSED: ("detail",),
    EXPRESSION_REFUSED: ("what", "detail"),
    START_TIMER_NOT_ISO: ("value",),
    FORM_UNKNOWN: ("form",),
    OPERATION_UNKNOWN: ("operation",),
    THROW_UNMAPPED: ("kind", "name"),
    DMN_UNPARSEABLE: ("detail",),
}
