"""Text as LanceDB's full-text index sees it, for the diary and the turn index.

LanceDB does not segment Chinese, so each CJK run (``core/cjk.RUN``: ideographs,
kana, hangul; punctuation ends a run) is spelled as its characters and
overlapping bigrams, the classic CJK analyzer; Latin text is left to LanceDB's
"simple" tokenizer (lower case, folding, stemming, stop words). A query is
spelled as bigrams only (a single character stays one term).
"""

from __future__ import annotations

import re

from ..core.cjk import RUN

__all__ = ["fts_document", "fts_query", "fts_terms"]

_CJK_RUN = re.compile(f"[{RUN}]+")


def _cjk_terms(run: str, *, query: bool) -> str:
    if len(run) == 1:
        return f" {run} "
    bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
    return " " + " ".join(bigrams if query else [*run, *bigrams]) + " "


def fts_terms(text: str) -> str:
    """A text as the full-text index sees it (CJK runs as characters and bigrams)."""
    return _CJK_RUN.sub(lambda m: _cjk_terms(m[0], query=False), text)


def fts_document(title: str, summary: str) -> str:
    """The text the full-text index sees for an entry."""
    return fts_terms(f"{title}\n{summary}")


def fts_query(text: str) -> str:
    """A search text rewritten into the terms ``fts_document`` indexes."""
    return _CJK_RUN.sub(lambda m: _cjk_terms(m[0], query=True), text).strip()
