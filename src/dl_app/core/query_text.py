"""What the full-text search is asked for a question (the vector search and
the dates in it keep the question as it was).

- Words nearly every question has are left out. The index drops English stop
  words itself ("what", "did", "how"); not the words questions ask *with*
  ("what kind of", "how many", "would she likely"), nor any Chinese ones: a
  Chinese question word ("什么", "哪天", "多少") would otherwise match, as
  bigrams with its neighbours, every message that asks something.
- The names of things the question mentions (a capitalised word that does not
  start a sentence, a number) count twice: they are rarer in talk than the
  words around them. The speakers' own names are not repeated: nearly every
  message carries one.
- A question that names one of the two speakers (and not the other) is
  mostly answered by that speaker's own messages (LoCoMo: 174 of 181 gold
  messages on conv-26, where each speaker says half): ``named_speaker`` tells
  which, and the evidence packing puts that speaker's matches first.

Chosen by ``bench/locomo_rerank.py`` on LoCoMo's conv-26 and the Chinese
fixture; conv-30 held out (README, "Recall, measured").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Longest first: "为什么" before "什么".
ZH_QUESTION_WORDS = ("为什么", "怎么样", "怎么", "什么", "多少", "哪天", "哪儿", "哪里",
                     "哪家", "哪个", "哪些", "几号", "几点", "来着", "吗", "呢", "谁", "哪")
EN_QUESTION_WORDS = frozenset(
    ["kind", "kinds", "type", "types", "sort", "likely", "ever", "much", "many", "some"])
ENTITY_REPEAT = 2  # how often a name or number counts

_ZH = re.compile("|".join(ZH_QUESTION_WORDS))
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9+'’-]*|\d[\d.,:]*")
_SENTENCE_END = re.compile(r"(^|[.!?。！？]\s*)$")


def text_query(question: str, speakers: Iterable[str] = ()) -> str:
    """The question rewritten for the full-text index."""
    skip = {s.strip().lower() for s in speakers if s.strip()}
    text = _ZH.sub(" ", question)
    names = []
    for m in _LATIN.finditer(text):
        word = m[0]
        bare = re.sub(r"['’]s$", "", word)
        if word.lower() in EN_QUESTION_WORDS or bare.lower() in skip:
            continue
        starts = _SENTENCE_END.search(text[: m.start()].rstrip(" \t\"'“‘(")) is not None
        if word[0].isdigit() or (word[0].isupper() and len(bare) > 1 and not starts):
            names.append(bare)
    kept = _LATIN.sub(lambda m: " " if m[0].lower() in EN_QUESTION_WORDS else m[0], text)
    return " ".join([kept, *names * (ENTITY_REPEAT - 1)]).strip()


def named_speaker(question: str, speakers: Sequence[str]) -> int | None:
    """The index of the one speaker whose name the question holds (a whole
    word, any case; a Chinese name anywhere), None for neither or both."""
    named = [i for i, name in enumerate(speakers)
             if name.strip() and _names(question, name.strip())]
    return named[0] if len(named) == 1 else None


def _names(question: str, name: str) -> bool:
    if not re.search(r"[A-Za-z0-9]", name):
        return name in question
    word = rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"
    return re.search(word, question, re.I) is not None
