"""English word and sentence splitting, rule for rule as spaCy's blank("en") tokenizer.

The Gopher, FineWeb and C4 reference filters (datatrove) count words with spaCy's English
tokenizer and sentences with its Sentencizer. Matching their verdicts needs the same words,
so this module runs the same algorithm (spacy/tokenizer.pyx: whitespace chunks, special
cases, prefix/suffix/infix regexes, URL match) over the same rule data, exported from spaCy
into tokenizer_en.json, in pure Python (spaCy is not a runtime dependency). A chunk's tokens
are cached, so common words cost one dict lookup.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

RULES_FILE = Path(__file__).with_name("tokenizer_en.json")
_CACHE_LIMIT = 400_000


class EnglishTokenizer:
    def __init__(self, path: Path = RULES_FILE) -> None:
        data = json.loads(path.read_text())
        self._prefix = re.compile(data["prefix"]).search
        self._suffix = re.compile(data["suffix"]).search
        self._infix = re.compile(data["infix"]).finditer
        self._url = re.compile(data["url"]).match
        self._specials: dict[str, tuple[str, ...]] = {
            k: tuple(v) for k, v in data["specials"].items()
        }
        self.sentence_punct = frozenset(data["sentence_punct"])
        self._cache: dict[str, tuple[str, ...]] = dict(self._specials)
        self._sentence_steps: dict[str, tuple[int, int, int, int]] = {}
        # Tokenizer._apply_special_cases: special cases that affix splitting would cut apart
        # (":)", "c.") are found again over the split tokens and put back together.
        self._patterns: dict[tuple[str, ...], str] = {}
        for string in self._specials:
            if " " in string or any(
                f(string) for f in (self._prefix, self._suffix, self._infix_any)
            ):
                self._patterns[tuple(self._tokenize(string, False))] = string
        self._longest = max(map(len, self._patterns), default=0)

    def words(self, text: str) -> list[str]:
        """Tokens of `text` without whitespace, as datatrove's split_into_words (English)."""
        cache_ = self._cache
        out: list[str] = []
        for chunk in text.split():
            tokens = cache_.get(chunk)
            if tokens is None:
                tokens = self._chunk(chunk)
            out.extend(tokens)
        return out

    def chunk_tokens(self, chunk: str) -> tuple[str, ...]:
        """The tokens of one whitespace-free chunk."""
        tokens = self._cache.get(chunk)
        return tokens if tokens is not None else self._chunk(chunk)

    def _infix_any(self, string: str) -> bool:
        return next(self._infix(string), None) is not None

    def _chunk(self, chunk: str) -> tuple[str, ...]:
        tokens = tuple(self._merge_specials(self._tokenize(chunk)))
        if len(self._cache) > _CACHE_LIMIT:
            self._cache = dict(self._specials)
        self._cache[chunk] = tokens
        return tokens

    def _affix_len(self, search, string: str) -> int:
        match = search(string)
        return match.end() - match.start() if match is not None else 0

    def _merge_specials(self, tokens: list[str]) -> list[str]:
        if len(tokens) < 2:
            return tokens
        patterns = self._patterns
        found = [
            (start, start + n)
            for start in range(len(tokens))
            for n in range(1, min(self._longest, len(tokens) - start) + 1)
            if tuple(tokens[start : start + n]) in patterns
        ]
        if not found:
            return tokens
        # Longest first, then leftmost; a token already covered blocks later matches.
        found.sort(key=lambda span: (span[0] - span[1], span[0]))
        seen: set[int] = set()
        chosen = {}
        for start, end in found:
            if start not in seen and end - 1 not in seen:
                chosen[start] = end
            seen.update(range(start, end))
        out: list[str] = []
        i = 0
        while i < len(tokens):
            end = chosen.get(i)
            if end is None:
                out.append(tokens[i])
                i += 1
            else:
                out.extend(self._specials["".join(tokens[i:end])])
                i = end
        return out

    def _tokenize(self, string: str, with_specials: bool = True) -> list[str]:
        # spacy/tokenizer.pyx Tokenizer._split_affixes (token_match is None for English).
        specials = self._specials if with_specials else {}
        prefixes: list[str] = []
        suffixes: list[str] = []
        last_size = 0
        while string and len(string) != last_size:
            if string in specials:
                break
            last_size = len(string)
            pre_len = self._affix_len(self._prefix, string)
            prefix = minus_pre = ""
            if pre_len:
                prefix, minus_pre = string[:pre_len], string[pre_len:]
                if minus_pre and minus_pre in specials:
                    string = minus_pre
                    prefixes.append(prefix)
                    break
            suf_len = self._affix_len(self._suffix, string[pre_len:])
            suffix = minus_suf = ""
            if suf_len:
                suffix, minus_suf = string[-suf_len:], string[:-suf_len]
                if minus_suf and minus_suf in specials:
                    string = minus_suf
                    suffixes.append(suffix)
                    break
            if pre_len and suf_len and (pre_len + suf_len) <= len(string):
                string = string[pre_len:-suf_len]
                prefixes.append(prefix)
                suffixes.append(suffix)
            elif pre_len:
                string = minus_pre
                prefixes.append(prefix)
            elif suf_len:
                string = minus_suf
                suffixes.append(suffix)
        # Tokenizer._attach_tokens
        out = prefixes
        if string:
            if string in specials:
                out.extend(specials[string])
            elif self._url(string):
                out.append(string)
            else:
                start = 0
                for match in self._infix(string):
                    infix_start, infix_end = match.start(), match.end()
                    if infix_start == 0:
                        continue
                    if infix_start != start:
                        out.append(string[start:infix_start])
                    if infix_start != infix_end:
                        out.append(string[infix_start:infix_end])
                    start = infix_end
                if string[start:]:
                    out.append(string[start:])
        out.extend(reversed(suffixes))
        return out

    def sentence_count(self, text: str) -> int:
        """Sentences of `text` by spaCy's Sentencizer over the tokens (whitespace tokens too).

        A sentence starts at a token that is neither punctuation nor a sentence-final mark
        and follows a sentence-final mark (".", "!", "?", ...).
        """
        if not text:
            return 0
        chunks = text.split()
        if not (len(text) - len("".join(chunks)) == len(chunks) - 1 == text.count(" ")):
            return self._sentence_count_tokens(text)
        # Chunks separated by single spaces (no whitespace token between them): fold the
        # state machine over chunks, each chunk's effect on (count, after a period) cached.
        steps = self._sentence_steps
        count = 1
        seen_period = 0
        for chunk in chunks:
            step = steps.get(chunk) or self._sentence_step(chunk)
            count += step[seen_period]
            seen_period = step[seen_period + 2]
        return count

    def _sentence_step(self, chunk: str) -> tuple[int, int, int, int]:
        """(sentences started from state 0, from state 1, end state from 0, from 1)."""
        punct = self.sentence_punct
        counts, ends = [], []
        for start in (False, True):
            seen_period, count = start, 0
            for token in self.chunk_tokens(chunk):
                in_punct = token in punct
                if seen_period and not in_punct and not is_punct(token):
                    count += 1
                    seen_period = False
                elif in_punct:
                    seen_period = True
            counts.append(count)
            ends.append(int(seen_period))
        if len(self._sentence_steps) > _CACHE_LIMIT:
            self._sentence_steps = {}
        step = self._sentence_steps[chunk] = (*counts, *ends)
        return step

    def _sentence_count_tokens(self, text: str) -> int:
        punct = self.sentence_punct
        count = 1
        seen_period = False
        for token in self._tokens_with_space(text):
            in_punct = token in punct
            if seen_period and not in_punct and not is_punct(token):
                count += 1
                seen_period = False
            elif in_punct:
                seen_period = True
        return count

    def _tokens_with_space(self, text: str) -> list[str]:
        # Whitespace runs are tokens too, except the single " " after a word.
        out: list[str] = []
        for piece in _PIECES.findall(text):
            if piece[0].isspace():
                if out and piece[0] == " ":
                    piece = piece[1:]
                if piece:
                    out.append(piece)
            else:
                tokens = self._cache.get(piece)
                out.extend(tokens if tokens is not None else self._chunk(piece))
        return out


_PIECES = re.compile(r"\s+|\S+")


@cache
def is_punct(token: str) -> bool:
    """Every character is punctuation (spaCy's Token.is_punct for these tokens)."""
    return all(unicodedata.category(c).startswith("P") for c in token)


@cache
def english() -> EnglishTokenizer:
    return EnglishTokenizer()


def split_into_words(text: str) -> list[str]:
    return english().words(text)
