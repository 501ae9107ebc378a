"""Attached documents in a request: chunks, relevance, the cap (pure).

A document's text is split into chunks of whole paragraphs (about
``CHUNK_TOKENS`` each; an over-long paragraph is cut). If every document fits
the budget's ``document_cap`` it is sent whole. Otherwise each document gets an
equal share of the cap and keeps the chunks most relevant to the user's
message, in document order: relevance is keyword overlap (words, and character
pairs for Chinese), reranked with the embedder's cosine similarity for the
best ``EMBED_CANDIDATES`` chunks when an embedder is available.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..prompts import PromptSet
from .cjk import WIDE_FROM
from .errors import DLError
from .ports import Embedder, TokenCounter
from .tokens import truncate

__all__ = ["Chunk", "fit_documents", "keyword_scores", "select_chunks", "split_chunks"]

CHUNK_TOKENS = 200
EMBED_CANDIDATES = 24

_WORD = re.compile(r"[a-z0-9]+|[\u2e80-\U0002ffff]+", re.IGNORECASE)


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    tokens: int


def split_chunks(text: str, counter: TokenCounter, max_tokens: int = CHUNK_TOKENS) -> list[Chunk]:
    """Whole paragraphs joined up to ``max_tokens``; longer paragraphs are cut."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        while para and counter.count(para) > max_tokens:
            head = truncate(counter, para, max_tokens, "")
            if not head:
                head = para[:max_tokens]
            pieces.append(head)
            para = para[len(head):].strip()
        if para:
            pieces.append(para)
    chunks: list[Chunk] = []
    buf: list[str] = []
    used = 0
    for piece in pieces:
        n = counter.count(piece)
        if buf and used + n + 1 > max_tokens:
            joined = "\n\n".join(buf)
            chunks.append(Chunk(len(chunks), joined, counter.count(joined)))
            buf, used = [], 0
        buf.append(piece)
        used += n + 1
    if buf:
        joined = "\n\n".join(buf)
        chunks.append(Chunk(len(chunks), joined, counter.count(joined)))
    return chunks


def _terms(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word[0] >= WIDE_FROM:  # CJK run: character pairs
            out.extend(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        elif len(word) > 1:
            out.append(word)
    return out


def keyword_scores(query: str, chunks: Sequence[Chunk]) -> list[float]:
    """Overlap of the query's terms with each chunk, rarer terms weighing more."""
    q = set(_terms(query))
    sets = [set(_terms(c.text)) for c in chunks]
    n = len(chunks) or 1
    idf = {t: math.log(1 + n / (1 + sum(t in s for s in sets))) for t in q}
    return [sum(idf[t] for t in q if t in s) for s in sets]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a)) or 1.0
    nb = math.sqrt(sum(y * y for y in b)) or 1.0
    return dot / (na * nb)


def relevance(query: str, chunks: Sequence[Chunk], embedder: Embedder | None) -> list[float]:
    scores = keyword_scores(query, chunks)
    top = max(scores, default=0.0) or 1.0
    scores = [s / top for s in scores]
    if embedder is None or not query.strip():
        return scores
    ranked = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))[:EMBED_CANDIDATES]
    try:
        qv = embedder.embed_query(query)
        vectors = embedder.embed_passages([chunks[i].text for i in ranked])
    except DLError:
        return scores  # keywords alone
    for i, v in zip(ranked, vectors, strict=True):
        scores[i] += 1.0 + _cosine(qv, v)  # candidates rank above the rest
    return scores


def select_chunks(chunks: Sequence[Chunk], scores: Sequence[float], cap: int) -> list[Chunk]:
    """The best-scoring chunks that fit ``cap`` tokens together, in document order."""
    chosen: list[Chunk] = []
    used = 0
    for i in sorted(range(len(chunks)), key=lambda i: (-scores[i], i)):
        n = chunks[i].tokens + 2  # the blank line between chunks
        if used + n <= cap:
            chosen.append(chunks[i])
            used += n
    return sorted(chosen, key=lambda c: c.index)


def fit_documents(
    documents: Sequence[tuple[str, str]],
    query: str,
    *,
    counter: TokenCounter,
    prompts: PromptSet,
    cap: int,
    embedder: Embedder | None = None,
) -> str:
    """The text of ``(name, text)`` documents to add to the user's message,
    at most ``cap`` tokens: whole documents if they all fit, else excerpts."""
    if not documents:
        return ""
    whole = "\n\n".join(
        prompts.label("document_whole", file=name, text=text.strip()) for name, text in documents
    )
    if counter.count(whole) <= cap:
        return whole
    share = cap // len(documents) - 2
    parts: list[str] = []
    for name, text in documents:
        chunks = split_chunks(text, counter, min(CHUNK_TOKENS, max(share // 2, 16)))
        frame = prompts.label("document_excerpts", file=name, text="", shown=len(chunks),
                              total=len(chunks))
        room = share - counter.count(frame) - 1
        chosen = select_chunks(chunks, relevance(query, chunks, embedder), room)
        body = "\n\n".join(c.text for c in chosen)
        part = prompts.label("document_excerpts", file=name, text=body, shown=len(chosen),
                             total=len(chunks))
        parts.append(truncate(counter, part, max(share, 0)))
    return "\n\n".join(parts)
