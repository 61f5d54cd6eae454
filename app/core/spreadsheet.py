"""Text for spreadsheet cells: what every export writes user-typed text through.

A cell must never run as a formula (formula injection: `=HYPERLINK(...)`, `@SUM(...)`), and
XML cannot hold most control characters, so an xlsx writer would break on text stored before
those were refused at the door.
"""

import re

ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def without_illegal_xml(text: str) -> str:
    return ILLEGAL_XML.sub("", text) if ILLEGAL_XML.search(text) else text


def cell_text(text: str) -> str:
    """`text` as a cell shows it and never runs it: illegal characters dropped, a formula-like
    start escaped with a leading '."""
    text = without_illegal_xml(text)
    return "'" + text if text.startswith(FORMULA_START) else text
