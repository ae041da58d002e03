"""Who acts: principal ids that one person cannot spell two ways, and the roles they hold.

Separation of duties is only as strong as the comparison of names. Raw strings let the first
promoter return as ``ALICE``, as ``аlice`` (Cyrillic а) or as ``alice`` plus a zero-width space.
No confusables library is installed, so this module states its own rule (the one in
``docs/security.md``), and tests pin each known attack:

1. **Refused outright** (before and after normalisation): control characters, invisible format
   characters (zero-width space/joiners, soft hyphen, byte order mark, bidi marks, overrides and
   isolates — Unicode category Cf), spaces and separators, surrogates, private-use and unassigned
   code points.
2. **Normalised**: NFKC, case folding, NFKC again (full-width ``ａｌｉｃｅ`` is ``alice``, the ``ﬁ``
   ligature is ``fi``, ``Straße`` is ``strasse``).
3. **Allowed characters**: ASCII letters and digits, ``.``, ``_``, ``@``, ``-`` (not first), and
   letters (plus their script's own vowel signs) of other scripts. Non-ASCII digits and
   modifier letters are refused; so are combining marks NFKC could not attach to a letter.
4. **One script per name**: scripts are told apart by the first word of the Unicode character name
   (LATIN, CYRILLIC, GREEK, HAN …). A name may not mix them, except the usual CJK mixes (Han with
   Hiragana/Katakana, with Hangul, or with Bopomofo).
5. **No Latin look-alikes**: a non-ASCII Latin letter is allowed only when it is an accented ASCII
   letter (``é``, ``ü``: its decomposition starts with one) or one of ``æ ø œ ł đ ð þ ħ ŋ``; so
   ``ı`` (dotless i), ``ɑ``, ``ɡ`` and small capitals are refused. A name written wholly in
   Cyrillic, Greek or Armenian letters that each have a Latin twin (``сосо``) is refused too.

:func:`same_person` then compares *skeletons* (marks dropped, twins mapped to Latin, ``0``→``o``,
``1``→``l``, ``rn``→``m``, ``vv``→``w``, ``.``/``_``/``-`` dropped, the ``os:`` prefix dropped) and
never raises, so names recorded before this rule existed are compared leniently rather than
trusted. It errs towards "same person": a denial by separation of duties can be retried by someone
else; a false "different person" cannot be taken back.
"""

from __future__ import annotations

import getpass
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from crypto_analyzer.core.errors import AuthenticationError, AuthorizationError, ValidationError

__all__ = [
    "ACTIONS",
    "OS_PREFIX",
    "ROLES",
    "SOURCES",
    "Principal",
    "authorize",
    "normalise_principal",
    "os_account_name",
    "principal_skeleton",
    "same_person",
]

ROLES = ("researcher", "reviewer", "admin")
SOURCES = ("token", "os", "declared")
"""How the identity was established: an API key, the OS account of the process, or self-declared
(sandbox workspaces and direct Python callers of the service)."""
OS_PREFIX = "os:"
"""Principal ids of OS accounts carry this prefix, so they never collide with registered ids."""

MAX_LENGTH = 64
_ASCII_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._@-")
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Zs": "a space",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
_CJK_MIXES = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "HANGUL"}),
    frozenset({"HAN", "BOPOMOFO"}),
)
_LATIN_EXTRAS = frozenset("æøœłđðþħŋ")
_LONG_VOWEL_MARK = "\u30fc"  # KATAKANA-HIRAGANA PROLONGED SOUND MARK, a modifier letter in names

_LATIN_TWINS = {
    # Cyrillic (lower case: ids are case-folded, so Cyrillic capitals arrive as these)
    "а": "a", "в": "b", "г": "r", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ѡ": "w",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "μ": "u",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q",
    # Latin letters that are not accented ASCII but imitate it
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɢ": "g", "ɩ": "i", "ɪ": "i", "ʀ": "r", "ʏ": "y",
    "ǀ": "l", "ʙ": "b", "ʜ": "h", "ʟ": "l", "ɴ": "n", "ꜱ": "s", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ᴋ": "k", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w",
    "ᴢ": "z",
}  # fmt: skip
_SKELETON_EXTRAS = {
    "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ŋ": "n",
    "0": "o", "1": "l", ".": "", "_": "", "-": "",
}  # fmt: skip
_SKELETON_PAIRS = (("rn", "m"), ("vv", "w"))


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')}"


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN" if char.isalpha() else ""
    if char == _LONG_VOWEL_MARK:
        return "KATAKANA"
    first = unicodedata.name(char, "").split(" ", 1)[0]
    return "HAN" if first == "CJK" else first


def _nfkc_fold(text: str) -> str:
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", text).casefold()
    )  # casefold can denormalise; NFKC again makes the result stable


def _refuse(what: str, text: str, problem: str, hint: str) -> ValidationError:
    return ValidationError(f"{what} {text!r} {problem}", hint)


def _check_hidden(what: str, original: str, text: str) -> None:
    for char in text:
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            raise _refuse(
                what,
                original,
                f"contains {_describe(char)}, {kind}",
                "type the name without it; invisible, control and space characters are never "
                "part of a principal",
            )


def normalise_principal(text: str, *, what: str = "principal name") -> str:
    """The principal id of ``text``: NFKC-case-folded, refusing what the module rule refuses.

    Raises :class:`~crypto_analyzer.core.errors.ValidationError` naming the offending character.
    """
    if not isinstance(text, str):
        raise ValidationError(f"{what} must be text, got {type(text).__name__}")
    if len(text) > 4 * MAX_LENGTH:
        raise _refuse(what, text[:16] + "…", f"is {len(text)} characters long", "use ≤ 64")
    _check_hidden(what, text, text)
    folded = _nfkc_fold(text)
    _check_hidden(what, text, folded)
    if not folded:
        raise _refuse(what, text, "is empty", "give a name")
    if len(folded) > MAX_LENGTH:
        raise _refuse(what, text, f"is {len(folded)} characters long", f"use ≤ {MAX_LENGTH}")
    scripts: set[str] = set()
    for char in folded:
        scripts.update(_check_char(what, text, char))
    if not folded[0].isalnum():
        raise _refuse(what, text, "must start with a letter or digit", "drop the prefix")
    if len(scripts) > 1 and not any(scripts <= mix for mix in _CJK_MIXES):
        raise _refuse(
            what,
            text,
            f"mixes {' and '.join(sorted(scripts))} letters",
            "write the name in one script; mixed scripts are how look-alike names are made",
        )
    letters = [char for char in unicodedata.normalize("NFD", folded) if char.isalpha()]
    if scripts and "LATIN" not in scripts and all(char in _LATIN_TWINS for char in letters):
        twin = "".join(
            _LATIN_TWINS.get(char, char) for char in unicodedata.normalize("NFD", folded)
        )
        raise _refuse(
            what,
            text,
            f"looks like the Latin name {twin!r}",
            "every letter of it has a Latin twin; choose a name that cannot be mistaken for one",
        )
    return folded


def _check_char(what: str, text: str, char: str) -> set[str]:
    """The script ``char`` counts for (empty for digits/punctuation), or a refusal."""
    if char.isascii():
        if char not in _ASCII_OK:
            raise _refuse(
                what, text, f"contains {_describe(char)}", "use letters, digits and . _ @ -"
            )
        return {"LATIN"} if char.isalpha() else set()
    category = unicodedata.category(char)
    script = _script(char)
    if category == "Nd":
        problem = "a non-ASCII digit"
    elif category in ("Mn", "Mc") and script in ("COMBINING", ""):
        problem = "a combining mark that does not belong to a letter"
    elif category in ("Mn", "Mc"):
        return {script}
    elif category == "Lm" and char != _LONG_VOWEL_MARK:
        problem = "a modifier letter"
    elif not category.startswith("L"):
        problem = "not a letter or digit"
    elif script == "LATIN" and not _plain_latin(char):
        twin = _LATIN_TWINS.get(char)
        problem = f"a look-alike of {twin!r}" if twin else "not an accented ASCII letter"
    else:
        return {script}
    raise _refuse(
        what, text, f"contains {_describe(char)}, {problem}", "see the principal-name rule"
    )


def _plain_latin(char: str) -> bool:
    base = unicodedata.normalize("NFD", char)[0]
    return (base.isascii() and base.isalpha()) or char in _LATIN_EXTRAS


def principal_skeleton(principal_id: str) -> str:
    """What ``principal_id`` looks like: the key :func:`same_person` compares. Never raises."""
    text = principal_id.removeprefix(OS_PREFIX) if isinstance(principal_id, str) else ""
    folded = "".join(
        char for char in _nfkc_fold(text) if unicodedata.category(char) not in _REFUSED_CATEGORIES
    )
    folded = folded.removeprefix(OS_PREFIX)
    decomposed = unicodedata.normalize("NFD", folded)
    kept = (char for char in decomposed if not unicodedata.category(char).startswith("M"))
    mapped = "".join(_LATIN_TWINS.get(char, _SKELETON_EXTRAS.get(char, char)) for char in kept)
    for pair, replacement in _SKELETON_PAIRS:
        mapped = mapped.replace(pair, replacement)
    return mapped


def same_person(first: str | None, second: str | None) -> bool:
    """True when the two principal names could be one person (equal ids, or look-alikes)."""
    if not first or not second:
        return False
    one, other = principal_skeleton(first), principal_skeleton(second)
    return bool(one) and one == other


@dataclass(frozen=True, slots=True)
class Principal:
    """An identity that acts: its normalised id, the name it was given, role and how it was known.

    ``role`` is None for OS accounts and declared names: roles come with registration
    (``principals add``); an unregistered identity is only possible where no principal is
    registered (governed) or in a sandbox.
    """

    principal_id: str
    display_name: str
    role: str | None
    source: str

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"principal source {self.source!r} is not one of {SOURCES}")
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"principal role {self.role!r} is not one of {ROLES}")

    @classmethod
    def declared(cls, name: str, *, what: str = "actor") -> Principal:
        """A self-declared name (recorded as such): sandboxes and direct service callers."""
        return cls(normalise_principal(name, what=what), name, None, "declared")

    @classmethod
    def from_os(cls, login: str) -> Principal:
        """The OS account running the process, as ``os:<normalised login name>``."""
        return cls(OS_PREFIX + normalise_principal(login, what="OS account"), login, None, "os")

    def names(self, claim: str) -> bool:
        """Whether ``claim`` (e.g. an ``--actor`` value) names this principal."""
        try:
            wanted = normalise_principal(claim.removeprefix(OS_PREFIX), what="--actor")
        except ValidationError:
            return False
        own = self.principal_id.removeprefix(OS_PREFIX) if self.source == "os" else None
        return wanted == self.principal_id or wanted == own

    def to_dict(self) -> dict[str, Any]:
        return {
            "display_name": self.display_name,
            "principal_id": self.principal_id,
            "role": self.role,
            "source": self.source,
        }


ACTIONS = {
    "create": "create candidates",
    "evaluate:candidate": "evaluate candidates for level candidate",
    "evaluate:accepted": "evaluate candidates for level accepted",
    "reject": "reject candidates",
    "revoke": "revoke candidates",
    "principals": "manage principals",
    "record_restatements": "record restatements of market data on the candidates they affect",
    "record_reproduction": "record a reproduction of a candidate's run on the candidate",
}
_GRANTS = {
    "researcher": frozenset(
        {"create", "evaluate:candidate", "record_restatements", "record_reproduction"}
    ),
    "reviewer": frozenset(
        {
            "create",
            "evaluate:candidate",
            "evaluate:accepted",
            "reject",
            "revoke",
            "record_restatements",
            "record_reproduction",
        }
    ),
    "admin": frozenset(ACTIONS),
}


def authorize(principal: Principal, action: str) -> None:
    """Refuse ``action`` when the principal's role does not grant it (unregistered: no role)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {sorted(ACTIONS)}")
    if principal.role is None or action in _GRANTS[principal.role]:
        return
    allowed = sorted(role for role, grants in _GRANTS.items() if action in grants)
    raise AuthorizationError(
        f"principal {principal.principal_id!r} ({principal.role}) may not {ACTIONS[action]}",
        f"this needs the role {' or '.join(allowed)}",
    )


def os_account_name() -> str:
    """The OS account of this process (its effective uid, not the USER/LOGNAME variables)."""
    try:
        import pwd
    except ImportError:  # pragma: no cover - Windows has no pwd; getpass asks the OS there
        name = getpass.getuser()
    else:
        try:
            name = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            name = ""
    if not name:
        raise AuthenticationError(
            "cannot tell who is acting: the OS account has no name",
            "set CRYPTO_ANALYZER_TOKEN to a principal token",
        )
    return name
