"""Characters that print the same but index differently, made plain (PDF and DOCX text).

Typographic ligatures (``ﬁ``, ``ﬂ``: U+FB00–FB06) get their NFKC letters, so "ﬁnancial" matches
"financial". NFKC is applied to those alone, not to the whole text: it would also turn "№" into
"No" and "²" into "2". No-break and thin spaces become plain spaces (Russian typesetting puts them
between initials, in numbers such as "3 390" and before dashes); soft hyphens, zero-width
characters and stray control characters are dropped. Form feeds survive: they mark page breaks.
"""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = re.compile("[\ufb00-\ufb06]")
_SPACES = re.compile("[\u00a0\u2007\u2009\u202f\u2002\u2003\u2004\u2005\u2006\u2008\u200a\u205f\u3000\t]")
_DROP = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0b\x0e-\x1f\x7f]")


def plain(text: str) -> str:
    """``text`` with ligatures spelled out, odd spaces made plain and invisible characters dropped."""
    text = _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return _DROP.sub("", _SPACES.sub(" ", text))
