// What is read aloud, and in which pieces. `speakable` is the page's copy of
// src/dl_app/core/speech.py's (voice_speak cleans with that one); the splitter lives only
// here. Both are checked against tests/data/speech_cases.json.
//
// SentenceSplitter turns a streamed reply (deltas of any size) into complete sentences as
// soon as they end: at Chinese and English end punctuation (。！？!?；;… and a full stop
// followed by a space) and at line breaks; closing quotes and brackets stay with their
// sentence. A sentence shorter than minChars (speakable characters; a CJK character
// counts 2) waits for the next one, so tiny fragments ("嗯。", "Oh!") are not synthesised
// on their own; one longer than maxChars is cut at a comma. Text inside an open code
// fence is held until the fence closes (and then dropped by speakable).

const FENCE = /```[\s\S]*?(?:```|$)/g;
const THINK = /<think>[\s\S]*?(?:<\/think>|$)/gi;
const INLINE_CODE = /`[^`\n]*`/g;
const IMAGE = /!\[[^\]]*\]\([^)]*\)/g;
const LINK = /\[([^\]]*)\]\([^)]*\)/g;
const URL_RE = /(?:https?:\/\/|www\.)[^\s<>()[\]{}"'，。！？、；：）】》]+/gi;
const TAG = /<\/?[A-Za-z][^<>]*>/g;
const HEADING = /^[ \t]*#{1,6}[ \t]+/gm;
const QUOTE = /^[ \t]*>+[ \t]?/gm;
const BULLET = /^[ \t]*(?:[-*+•]|\d+[.)])[ \t]+/gm;
const RULE = /^[ \t]*(?:[-*_=][ \t]*){3,}$/gm;
const TABLE_RULE = /^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|?)+[ \t]*$/gm;
const EMPHASIS = /(\*{1,3}|_{2,3}|~~)/g;
const EMOJI = /[\u{1F000}-\u{1FAFF}\u{2600}-\u{27BF}\u{2B00}-\u{2BFF}\u{2190}-\u{21FF}\u{2300}-\u{23FF}\u{FE0E}\u{FE0F}\u{200D}\u{20E3}\u{E0020}-\u{E007F}]+/gu;
const SPACES = /[ \t\u3000]+/g;
const SPACE_BEFORE_PUNCT = /[ \t]+(?=[。！？，、；：!?,.;:…”」』）)])/g;
const BLANK_LINES = /\s*\n\s*/g;
const CJK = "\\u3040-\\u30ff\\u3400-\\u9fff\\uac00-\\ud7af\\uf900-\\ufaff";
const SPEAKABLE_CHAR = new RegExp(`[0-9A-Za-z\\u00c0-\\u024f\\u0400-\\u04ff${CJK}]`, "g");
const CJK_CHAR = new RegExp(`[${CJK}]`, "g");

const ENDERS = "。！？!?；;…\n";
const ENDERS_MORE = "。！？!?；;….";
const CLOSERS = "”’」』）)]】》\"'";
const COMMAS = "，,、：:";

/** `text` as it should be read aloud (may be empty). */
export function speakable(text) {
  let s = String(text || "");
  s = s.replace(THINK, " ").replace(FENCE, " ").replace(INLINE_CODE, " ");
  s = s.replace(IMAGE, " ").replace(LINK, "$1").replace(URL_RE, " ").replace(TAG, " ");
  s = s.replace(TABLE_RULE, " ").replace(RULE, " ");
  s = s.replace(HEADING, "").replace(QUOTE, "").replace(BULLET, "").replace(EMPHASIS, "");
  s = s.replace(/\|/g, " ").replace(EMOJI, " ").replace(SPACES, " ");
  s = s.replace(SPACE_BEFORE_PUNCT, "").replace(BLANK_LINES, "\n");
  return s.trim();
}

/** How much there is to say: letters and digits count 1, CJK characters 2. */
export function speechWeight(text) {
  const s = String(text || "");
  return (s.match(SPEAKABLE_CHAR) || []).length + (s.match(CJK_CHAR) || []).length;
}

function endOfSentence(text, final) {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    let end = -1;
    if (ENDERS.includes(c)) {
      end = i + 1;
      while (end < n && ENDERS_MORE.includes(text[end])) end++;
    } else if (c === "." && ((i + 1 < n && " \n\t".includes(text[i + 1])) || (final && i + 1 === n))) {
      end = i + 1;
    }
    if (end !== -1) {
      while (end < n && CLOSERS.includes(text[end])) end++;
      if (end === n && !final && c !== "\n") return -1; // closers may still arrive
      return end;
    }
  }
  return -1;
}

/** Feed a streamed reply, get complete speakable sentences (see the top of this file). */
export class SentenceSplitter {
  constructor(minChars = 8, maxChars = 160) {
    this.minChars = minChars;
    this.maxChars = maxChars;
    this.buf = "";
    this.held = "";
  }

  feed(delta) {
    this.buf += delta || "";
    return this.drain(false);
  }

  /** The rest, at the end of the reply (a short last piece is said too). */
  flush() {
    const out = this.drain(true);
    const rest = speakable(this.held);
    this.held = "";
    if (speechWeight(rest)) out.push(rest.replace(/\n/g, " "));
    return out;
  }

  drain(final) {
    const out = [];
    while (this.buf) {
      const fence = this.buf.indexOf("```");
      const head = fence === -1 ? this.buf : this.buf.slice(0, fence);
      let end = endOfSentence(head, final || fence !== -1);
      if (end === -1 && fence !== -1) {
        const close = this.buf.indexOf("```", fence + 3);
        if (close === -1 && !final) return out;
        end = close === -1 ? this.buf.length : close + 3;
      }
      if (end === -1) {
        end = this.cutLong(final);
        if (end === -1) return out;
      }
      const piece = this.buf.slice(0, end);
      this.buf = this.buf.slice(end);
      this.held += piece;
      const spoken = speakable(this.held);
      const weight = speechWeight(spoken);
      if (!weight) this.held = "";
      else if (weight >= this.minChars) {
        out.push(spoken.replace(/\n/g, " "));
        this.held = "";
      }
    }
    return out;
  }

  cutLong(final) {
    if (final) return this.buf.length;
    let weight = 0;
    let comma = -1;
    let space = -1;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      weight += speechWeight(c);
      if (COMMAS.includes(c)) comma = i;
      else if (c === " ") space = i;
      if (weight >= this.maxChars) return (comma > 0 ? comma : space > 0 ? space : i) + 1;
    }
    return -1;
  }
}

/** A whole text as speakable sentences. */
export function splitSentences(text, minChars = 8, maxChars = 160) {
  const sp = new SentenceSplitter(minChars, maxChars);
  return [...sp.feed(text), ...sp.flush()];
}
