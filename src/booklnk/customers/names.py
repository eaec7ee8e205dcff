"""How names and numbers are matched when staff search their customers. Pure (`sql_fold`
builds an expression; it runs nothing).

Arabic is written many ways for one name: with or without short vowels (tashkeel) and the
elongation stroke (tatweel), with hamza forms of alef or a plain one, with alef maqsura or
yeh, teh marbuta or heh at a word's end. Phones type digits in Arabic-Indic or Eastern
forms. Both the stored key and the query are folded the same way, so a search for the name
without its hamza finds it with one, and Arabic-Indic digits find "+20100…".
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, func

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Each variant (hamza alefs, alef wasla, alef maqsura, teh marbuta, hamza on waw and yeh,
# and the Persian yeh and keheh some keyboards type) and the letter it is folded into.
_VARIANTS = "أإآٱىةؤئیک"
_PLAIN = "اااايهوييك"
_LETTERS = str.maketrans(_VARIANTS, _PLAIN)
_SPACES = re.compile(r"\s+")
# The longest query folded (a name and a number with room to spare).
MAX_QUERY = 100


def fold(text: str) -> str:
    """`text` as searched: NFKC (Arabic-Indic digits become ASCII, presentation forms plain
    letters), case-folded, without tashkeel and tatweel, letter variants merged, spaces
    collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _TASHKEEL.sub("", folded).translate(_LETTERS)
    folded = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in folded)
    return _SPACES.sub(" ", folded).strip()


def sql_fold(column: ColumnElement[str]) -> ColumnElement[str]:
    """`fold` in SQL, for names kept elsewhere (an account's): lower case, tashkeel and
    tatweel dropped, the letter variants merged (not NFKC: names are typed, not pasted
    from presentation forms)."""
    lowered = func.lower(column)
    merged = func.translate(lowered, _VARIANTS, _PLAIN)
    return func.regexp_replace(merged, _TASHKEEL.pattern, "", "g")


def search_key(name: str | None, phone: str | None, email: str | None) -> str:
    """What a record is found by: its folded name, its number as typed at home and in
    E.164 (so "0100…" and "+20100…" both match), and its e-mail."""
    parts = [fold(name or "")]
    if phone:
        parts.append(phone)
        if phone.startswith("+20"):
            parts.append("0" + phone[3:])
    if email:
        parts.append(email.casefold())
    return " | ".join(part for part in parts if part)


def query_key(query: str) -> str:
    """A search as matched against `search_key`: folded; a number's spaces, dashes and
    brackets dropped (people type "0100 123 4567")."""
    folded = fold(query[:MAX_QUERY])
    if re.fullmatch(r"[+\d][\d\s\-()]*", folded):
        return re.sub(r"[\s\-()]", "", folded)
    return folded
