"""Is a housekeeping output fit to be stored? (summary, diary, title, self-concept, profile)

Small models often answer a housekeeping prompt with the prompt itself: its
headings ("### 本次对话的日记"), its instructions ("新旧矛盾时以新的为准"), the
placeholder for an empty memory, transcript lines, or the same line over and
over. ``check`` finds these; the engine then keeps the previous version (see
``housekeeping.Housekeeper``). What counts as an echo is derived from the
prompt files themselves (``forbidden``), so the check follows the prompts when
they change.

Reasons (stable codes; ``Rejection.detail`` says what was found):

- ``empty``: no letters or digits at all;
- ``unfinished``: ends in a colon ("好的，以下是总结：" and nothing after);
- ``heading``: a Markdown heading line, or a line that is one of the prompts' headings;
- ``echo``: a run of a housekeeping prompt's instructions, or a placeholder label;
- ``transcript``: lines in the transcript format the prompts show ("- 用户 (14:03): …");
- ``copy``: mostly the conversation's own sentences copied (given as ``source``),
  not a summary of them;
- ``refusal``: a short apology for not doing the task ("I'm sorry, but I can't
  assist with that.", "抱歉，我无法完成…");
- ``repetition``: the same line or sentence again and again, or one phrase looping;
- ``over_cap``: longer than its cap allows (more than ``CAP_SLACK`` over it; the
  request asked for at most the cap, so within the slack it is cut as before).
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ..prompts import PromptSet
from .cjk import ideograph_count
from .ports import TokenCounter

__all__ = [
    "CAP_SLACK", "Forbidden", "Rejection", "check", "dump_rejections", "forbidden",
    "load_rejections", "tidy",
]

# The templates whose instructions a housekeeping output must not repeat.
HOUSEKEEPING_TEMPLATES = ("summary", "diary", "title", "self_update", "profile_update")
# Labels that stand in for missing input; an output holding one copied it.
PLACEHOLDER_LABELS = ("no_memory", "no_summary", "truncated")
SPEAKER_LABELS = ("speaker_user", "speaker_assistant", "speaker_tool")

CAP_SLACK = 1.2  # tokens over cap x this: the service ignored max_tokens
CJK_RUN = 8  # characters of an instruction repeated verbatim: an echo
CJK_WHOLE = 6  # a shorter instruction clause (between punctuation) echoed whole
WORD_RUN = 5  # words of an English instruction repeated verbatim
WORD_WHOLE = 4

_WORD = re.compile(r"[a-z0-9']+")
_VAR = re.compile(r"\$(?:[_a-zA-Z]\w*|\{[_a-zA-Z]\w*\})", re.ASCII)
# Clause boundaries in the prompts: punctuation, quotes, brackets, list numbers.
_CLAUSE = re.compile(r"[，。；：！？,.;:!?\"“”「」『』()（）\[\]【】]|\b\d+\.\s")
_SENTENCE = re.compile(r"[。！？!?\n]|\.(?=\s|$)")
_LOOP = re.compile(r"(.{4,60}?)\1{3,}", re.S)
_PREFACE_ONLY = re.compile(r"[:：]\s*$")
_PREFACE = re.compile(
    r"^\s*(好的|好|以下是|下面是|这是|sure|okay|ok|here is|here's|here are)[^\n]{0,40}[:：]\s*\n",
    re.I,
)
_REFUSAL = re.compile(
    r"^\W*(?:(?:i'?m|i am|we'?re)\s+(?:so\s+|very\s+|really\s+)?sorry|sorry|i apologi[sz]e|"
    r"unfortunately|as an ai)\b[^\n]{0,80}?\b(?:can'?t|cannot|can not|unable|not able|won'?t)\b"
    r"[^\n]{0,40}?\b(?:assist|help|comply|complete|fulfil+|provide|do (?:that|this)|"
    r"with (?:that|this)|this request|the task)"
    r"|^\W*(?:很?抱歉|对不起|不好意思|非常抱歉)[^\n。！？]{0,40}?(?:无法|不能|没法|不可以|做不到)"
    r"[^\n]{0,30}?(?:完成|帮助|帮你|协助|提供|回答|处理|满足|这个请求|该请求|这项任务|这个任务)",
    re.I,
)
REFUSAL_MAX = 240  # characters: a refusal is a sentence or two, a memory longer
COPY_SHARE = 0.6  # of the output's characters in sentences copied from the source
COPY_MIN = 8  # characters of a sentence (normalized) that count as a copy
_SPEAKER_PREFIX = re.compile(r"^[-*•\s]*[^\s:：]{1,20}\s*(?:[(（][^)）]{0,12}[)）])?\s*[:：]\s*")
_FENCE = re.compile(r"^```[a-zA-Z]*\n?|\n?```$")
_TITLE_PREFIX = re.compile(r"^(标题|title)\s*[:：]\s*", re.I)


@dataclass(frozen=True)
class Rejection:
    """A housekeeping output that was not stored: ``kind`` (summary, diary, title,
    self, user), ``reason`` (a code above), ``detail`` (what was found, plain
    text), ``at_ms`` (when)."""

    kind: str
    reason: str
    detail: str
    at_ms: int


def dump_rejections(rejections: Sequence[Rejection]) -> str:
    """``rejections`` as JSON, to be kept with the state."""
    return json.dumps([[r.kind, r.reason, r.detail, r.at_ms] for r in rejections],
                      ensure_ascii=False)


def load_rejections(text: str | None) -> list[Rejection]:
    """What ``dump_rejections`` wrote; damaged or missing text is no rejections."""
    try:
        rows = json.loads(text or "[]")
        return [Rejection(str(k), str(r), str(d), int(t)) for k, r, d, t in rows]
    except (ValueError, TypeError):
        return []


@dataclass(frozen=True)
class Forbidden:
    """What an output must not contain, derived from one language's prompts."""

    headings: tuple[re.Pattern[str], ...]  # a whole line equal to a prompt heading
    cjk_runs: frozenset[str]  # CJK_RUN-character runs of the instructions
    cjk_clauses: tuple[str, ...]  # shorter CJK clauses, matched whole
    word_runs: frozenset[tuple[str, ...]]  # WORD_RUN-word runs of the instructions
    word_clauses: tuple[tuple[str, ...], ...]
    placeholders: tuple[str, ...]  # normalized placeholder labels
    transcript: re.Pattern[str]
    speaker_line: re.Pattern[str]


def _norm(text: str) -> str:
    """Lower case, no whitespace, no Markdown emphasis: how texts are compared."""
    return re.sub(r"[\s*_`>]+", "", text.lower())


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _heading_pattern(heading: str) -> re.Pattern[str]:
    parts = [re.escape(_norm(p)) for p in _VAR.split(heading)]
    return re.compile(".{1,24}?".join(parts))


@cache
def forbidden(prompts: PromptSet, templates: tuple[str, ...] = HOUSEKEEPING_TEMPLATES
              ) -> Forbidden:
    """The headings of every prompt file, the instruction clauses of the
    ``templates`` (the housekeeping prompts; a check-in adds its own) and the
    placeholder labels of ``prompts``."""
    headings: list[re.Pattern[str]] = []
    cjk_runs: set[str] = set()
    cjk_clauses: set[str] = set()
    word_runs: set[tuple[str, ...]] = set()
    word_clauses: set[tuple[str, ...]] = set()
    for name in prompts.names():
        for line in prompts.source(name).splitlines():
            if line.lstrip().startswith("#"):
                heading = line.strip().lstrip("#").strip()
                if _norm(_VAR.sub("", heading)):
                    headings.append(_heading_pattern(heading))
            elif name in templates:
                for clause in _CLAUSE.split(_VAR.sub("|", line)):
                    for piece in clause.split("|"):
                        _add_clause(piece, cjk_runs, cjk_clauses, word_runs, word_clauses)
    placeholders = tuple(_placeholder(prompts.label_source(n)) for n in PLACEHOLDER_LABELS)
    speakers = "|".join(re.escape(prompts.label(n)) for n in SPEAKER_LABELS)
    return Forbidden(
        headings=tuple(headings),
        cjk_runs=frozenset(cjk_runs),
        cjk_clauses=tuple(sorted(cjk_clauses)),
        word_runs=frozenset(word_runs),
        word_clauses=tuple(sorted(word_clauses)),
        placeholders=placeholders,
        transcript=re.compile(
            rf"^\s*[-*•]?\s*(?:{speakers})\s*[(（]\s*\d{{1,2}}:\d{{2}}\s*[)）]\s*[:：]", re.M
        ),
        speaker_line=re.compile(rf"^\s*[-*•]?\s*(?:{speakers})\s*[:：]", re.M),
    )


def _placeholder(label: str) -> str:
    """A placeholder as matched: its words, or with its brackets when short."""
    inner = label.strip("…. ")
    bare = inner.strip("()（）")
    long = ideograph_count(bare) >= CJK_WHOLE or len(_words(bare)) >= 3
    return _norm(bare if long else inner)


def _add_clause(
    piece: str,
    cjk_runs: set[str],
    cjk_clauses: set[str],
    word_runs: set[tuple[str, ...]],
    word_clauses: set[tuple[str, ...]],
) -> None:
    text = _norm(piece)
    if ideograph_count(text) >= CJK_WHOLE:
        if len(text) >= CJK_RUN:
            cjk_runs.update(text[i : i + CJK_RUN] for i in range(len(text) - CJK_RUN + 1))
        else:
            cjk_clauses.add(text)
        return
    words = _words(piece)
    if len(words) >= WORD_RUN:
        word_runs.update(words[i : i + WORD_RUN] for i in range(len(words) - WORD_RUN + 1))
    elif len(words) >= WORD_WHOLE:
        word_clauses.add(words)


def _echo(text: str, fb: Forbidden) -> str | None:
    flat = _norm(text)
    for p in fb.placeholders:
        if p in flat:
            return p
    for i in range(len(flat) - CJK_RUN + 1):
        if flat[i : i + CJK_RUN] in fb.cjk_runs:
            end = i + CJK_RUN  # the whole echoed stretch, for the reason shown
            while end < len(flat) and flat[end - CJK_RUN + 1 : end + 1] in fb.cjk_runs:
                end += 1
            return flat[i:end]
    for c in fb.cjk_clauses:
        if c in flat:
            return c
    words = _words(text)
    for i in range(len(words) - WORD_RUN + 1):
        if words[i : i + WORD_RUN] in fb.word_runs:
            return " ".join(words[i : i + WORD_RUN])
    n = WORD_WHOLE
    grams = {words[i : i + n] for i in range(len(words) - n + 1)}
    for clause in fb.word_clauses:
        if clause in grams:
            return " ".join(clause)
    return None


def _heading(lines: list[str], fb: Forbidden) -> str | None:
    for line in lines:
        s = line.strip()
        if re.match(r"#+(\s|#|$)", s):  # "# x", "### x"; not "#旅行" or "C#"
            return s[:60]
        bare = _norm(s.strip("#*-•:： "))
        if bare and any(h.fullmatch(bare) for h in fb.headings):
            return s[:60]
        for mark in re.finditer(r"#+", s):  # "…。## 本次对话的日记" inside a line
            rest = _norm(s[mark.end() :])
            if any(h.match(rest) for h in fb.headings):
                return s[mark.start() :][:60]
    return None


def _repetition(text: str, lines: list[str]) -> str | None:
    counts = Counter(_norm(ln) for ln in lines)
    for line, n in counts.items():
        if n >= 2 and len(line) >= 10:
            return line[:60]
    sentences = Counter(s for s in (_norm(x) for x in _SENTENCE.split(text)) if s)
    for sentence, n in sentences.items():
        if (n >= 2 and len(sentence) >= 8) or (n >= 3 and len(sentence) >= 3):
            return sentence[:60]
    loop = _LOOP.search(text)
    if loop:
        return loop.group(1)[:60]
    raw = text.encode("utf-8")
    if len(raw) >= 240 and len(zlib.compress(raw, 9)) / len(raw) < 0.22:
        return text[:60]
    return None


def _copied(text: str, source: Sequence[str]) -> str | None:
    """The first copied sentence if most of ``text`` is sentences of ``source``
    word for word (a speaker prefix such as "User:" ignored)."""
    if not source:
        return None
    pool = _norm("\n".join(source))
    total = copied = 0
    first = None
    for line in text.splitlines():
        for sentence in _SENTENCE.split(_SPEAKER_PREFIX.sub("", line)):
            s = _norm(sentence)
            total += len(s)
            if len(s) >= 3 and s in pool:
                copied += len(s)
                if len(s) >= COPY_MIN:
                    first = first or sentence.strip()
    if first and copied >= COPY_SHARE * total:
        return first[:60]
    return None


def tidy(kind: str, text: str) -> str:
    """Model output as plain memory text: no fences, no "Here is ...:" line before
    the text; a title is its first line without quotes or a "标题：" prefix."""
    text = _FENCE.sub("", text.strip()).strip()
    text = _PREFACE.sub("", text, count=1).strip() if "\n" in text else text
    if kind == "title":
        text = text.splitlines()[0] if text else ""
        text = _TITLE_PREFIX.sub("", text.strip().strip("#* "))
        text = text.strip().strip("\"'“”‘’《》「」#*").strip()
    return text


def check(
    text: str, fb: Forbidden, counter: TokenCounter | None = None, cap: int | None = None,
    source: Sequence[str] = (),
) -> tuple[str, str] | None:
    """``(reason, detail)`` if ``text`` must not be stored, else None.

    ``fb`` is ``forbidden(prompts)`` of the language the request was in;
    ``cap`` (tokens, counted with ``counter``) is the output's section cap;
    ``source`` the messages' texts the output was to be made from."""
    if not re.search(r"\w", text):
        return "empty", ""
    if _PREFACE_ONLY.search(text):
        return "unfinished", text.strip()[-60:]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    found = _heading(lines, fb)
    if found:
        return "heading", found
    found = _echo(text, fb)
    if found:
        return "echo", found
    match = fb.transcript.search(text)
    if match or len(fb.speaker_line.findall(text)) >= 2:
        return "transcript", (match.group(0) if match else fb.speaker_line.findall(text)[0])
    if len(text) <= REFUSAL_MAX and (refusal := _REFUSAL.search(text)):
        return "refusal", refusal.group(0).strip()[:60]
    found = _copied(text, source)
    if found:
        return "copy", found
    found = _repetition(text, lines)
    if found:
        return "repetition", found
    if counter is not None and cap is not None:
        n = counter.count(text)
        if n > cap * CAP_SLACK:
            return "over_cap", f"{n} > {cap}"
    return None
