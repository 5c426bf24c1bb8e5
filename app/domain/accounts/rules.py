"""Pure input rules for accounts: email, phone, password, name."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from app.domain import fields
from app.domain.errors import validation

# A name and a domain, each of parts joined by single dots (two or more for the domain), none
# empty; no space, and none of the characters that make an address quoted, commented or an IP
# literal (".ann@", "a..b@", "c(x)@", "d@[127.0.0.1]"), which a mailbox rarely has and many
# mail systems refuse; a domain's part neither starts nor ends with a hyphen, as no host name
# does ("e@-mail.com"); no "=?", which begins an encoded word that a mail header decodes into
# another address ("=?utf-8?q?ann?=@x.com" is ann@x.com there; RFC 2047 keeps them out of
# addresses). app/check.py holds stored addresses to the same pattern.
EMAIL_CHAR = r'[^@\s.()<>\[\]\\,;:"]'
EMAIL_PART = rf"{EMAIL_CHAR}+"
DOMAIN_END = r'[^@\s.()<>\[\]\\,;:"-]'
DOMAIN_PART = rf"{DOMAIN_END}(?:{EMAIL_CHAR}*{DOMAIN_END})?"
EMAIL_RE = re.compile(rf"^(?!.*=\?){EMAIL_PART}(?:\.{EMAIL_PART})*@{DOMAIN_PART}(?:\.{DOMAIN_PART})+$")
PASSWORD_MIN, PASSWORD_MAX = 8, 256
NAME_MAX = 200
EMAIL_MAX = 254


def email_form(email: str) -> str:
    """The one form of an address: NFKC (full-width letters, an accent typed as its own mark,
    become the usual characters), trimmed, lower case, and NFKC again (lower-casing can leave a
    letter and its mark apart that NFKC puts together: J + U+030C)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).strip().lower())


def lookup_email(email: str) -> str | None:
    """What sign-in and a password reset look an account up by: the one form of what was typed,
    without the rules for new addresses, so an account an earlier version stored with an address
    those rules now refuse (a trailing dot, an invisible character) still signs in. None when it
    is too long to be any account's."""
    value = email_form(email)
    return value if len(value) <= EMAIL_MAX else None


def normalise_email(email: str, field: str = "email") -> str:
    """One address is one account however it was typed (email_form); nothing invisible (a
    zero-width space would make a second account that looks like the first) and no character
    this server's Unicode does not know (its NFKC form might change with a later Unicode)."""
    value = email_form(email)
    if (
        len(value) > EMAIL_MAX
        or not EMAIL_RE.match(value)
        or any(fields.invisible(c) or unicodedata.category(c) == "Cn" for c in value)
    ):
        raise validation("Enter a valid email address", field)
    return value


def normalise_phone(phone: str, region: str, field: str = "phone") -> str:
    """Any common notation in, E.164 out (+15551234567)."""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise validation("Enter a valid phone number", field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise validation("Enter a valid phone number", field)
    if parsed.extension:
        # E.164 has no extension: storing the number without it would say it was kept.
        raise validation("Enter the number without an extension", field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_password(password: str, field: str = "password") -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise validation(f"Passwords are {PASSWORD_MIN} to {PASSWORD_MAX} characters", field)
    return password


def normalise_name(name: str, field: str = "name") -> str:
    return fields.name(name, max_length=NAME_MAX, field=field)
