"""Minors' personal data: masking for readers who may not see it, and the check that keeps it
out of text meant for schools and the public.

The check is deliberately blunt: it refuses any victim's name, ID number or contact found in
the text, and anything shaped like a resident ID number (15 or 18 digits) or a mobile number
(11 digits starting with 1), whoever it belongs to. A false refusal costs the office a
rewording; a false pass publishes a child's identity.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from app.cases.models import CaseVictim

_ID_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9xX]|[0-9]{15})(?![0-9xX])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# Separators people put inside numbers: "138-1234-5678", "138 1234 5678".
_SEPARATORS = re.compile(r"(?<=[0-9])[\s\-.·]+(?=[0-9])")
_NON_DIGITS = re.compile(r"[^0-9xX]")


def _normal(text: str) -> str:
    # NFKC folds full-width digits and letters (１３８…) into ASCII ones.
    return unicodedata.normalize("NFKC", text)


def _joined(text: str) -> str:
    return _SEPARATORS.sub("", _normal(text))


@dataclass(frozen=True)
class Finding:
    """What kind of personal data was found. Never the data itself: the refusal message must
    not echo a child's name back."""

    kind: str  # victim_name | victim_id_number | victim_contact | id_number | mobile


def find_personal_data(text: str, victims: Iterable[CaseVictim]) -> list[Finding]:
    normal = _normal(text)
    joined = _joined(text)
    lowered = joined.lower()
    found: list[Finding] = []
    for victim in victims:
        name = _normal(victim.name).strip()
        if len(name) >= 2 and name in normal:
            found.append(Finding("victim_name"))
        if victim.id_number:
            number = _NON_DIGITS.sub("", _normal(victim.id_number)).lower()
            if len(number) >= 6 and number in lowered:
                found.append(Finding("victim_id_number"))
        if victim.contact:
            contact = _NON_DIGITS.sub("", _normal(victim.contact))
            if len(contact) >= 6 and contact in joined:
                found.append(Finding("victim_contact"))
    if _ID_NUMBER.search(joined):
        found.append(Finding("id_number"))
    if _MOBILE.search(joined):
        found.append(Finding("mobile"))
    return found


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧*: one star whatever the length, which is itself a clue."""
    return name[:1] + "*"


def mask_id_number(number: str | None) -> str | None:
    """110101200901011234 → 1101**********1234."""
    if not number:
        return number
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_contact(contact: str | None) -> str | None:
    """13812345678 → 138****5678."""
    if not contact:
        return contact
    if len(contact) < 8:
        return "*" * len(contact)
    return contact[:3] + "*" * (len(contact) - 7) + contact[-4:]


def redact(text: str | None, victims: Iterable[CaseVictim]) -> str | None:
    """The police's own free text (narrative, judgement, timeline comments, progress reports)
    as shown to readers who may not see victims: each victim's name, ID number and contact,
    and anything shaped like an ID or mobile number, masked in place."""
    if not text:
        return text
    out = _normal(text)
    for victim in victims:
        name = _normal(victim.name).strip()
        if len(name) >= 2:
            out = out.replace(name, mask_name(name))
        for value, mask in ((victim.id_number, mask_id_number), (victim.contact, mask_contact)):
            if value and len(value) >= 6:
                out = out.replace(_normal(value), mask(value) or "")
    out = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()) or "", out)
    return _MOBILE.sub(lambda m: mask_contact(m.group()) or "", out)
