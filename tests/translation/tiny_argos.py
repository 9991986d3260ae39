"""Build real, tiny argos packages for tests: a SentencePiece model and a CTranslate2
Transformer whose weights are set by hand so that it translates word for word.

The model is a one-layer encoder-decoder. Embeddings are one-hot: the encoder puts each source
piece and its position in separate dimensions; the decoder's cross-attention at step t looks
up source position t (queries and keys are the one-hot positions, scaled to make attention
hard) and copies that piece's one-hot vector; the output projection maps it to the target piece
given by the lexicon. With ``add_source_eos`` the source ends in ``</s>``, which maps to
``</s>`` and ends decoding. Every layer norm sees the same multiset of values for every input,
so it is a fixed affine map and keeps the one-hot structure. The result is an ordinary
CTranslate2 model, loaded, tokenized, decoded and pivoted by argostranslate as any other.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import sentencepiece as spm
from ctranslate2.converters.converter import Converter
from ctranslate2.specs import transformer_spec

#: A SentencePiece control symbol: decoding drops it, so mapping a piece to it deletes it.
NOTHING = "<nil>"
SPECIALS = ["<unk>", "<s>", "</s>"]
MAX_LENGTH = 64


class _HandMadeConverter(Converter):
    def __init__(self, spec: transformer_spec.TransformerSpec) -> None:
        self.spec = spec

    def _load(self) -> transformer_spec.TransformerSpec:
        return self.spec


def _spec(source_vocab: list[str], target_vocab: list[str], target_of: Mapping[str, str]):
    v, t, length = len(source_vocab), len(target_vocab), MAX_LENGTH
    d = v + length + v  # source piece | position | copied piece
    f32 = np.float32
    target_index = {piece: i for i, piece in enumerate(target_vocab)}
    spec = transformer_spec.TransformerSpec.from_config((1, 1), 1)
    encoder, decoder = spec.encoder, spec.decoder

    def norm(layer_norm) -> None:  # type: ignore[no-untyped-def]
        layer_norm.gamma, layer_norm.beta = np.ones(d, f32), np.zeros(d, f32)

    def zero(linear, rows: int, columns: int) -> None:  # type: ignore[no-untyped-def]
        linear.weight, linear.bias = np.zeros((rows, columns), f32), np.zeros(rows, f32)

    def silent_block(layer) -> None:  # type: ignore[no-untyped-def]
        norm(layer.self_attention.layer_norm)
        zero(layer.self_attention.linear[0], 3 * d, d)
        zero(layer.self_attention.linear[1], d, d)
        norm(layer.ffn.layer_norm)
        zero(layer.ffn.linear_0, 4, d)
        zero(layer.ffn.linear_1, d, 4)

    one_hot = np.zeros((v, d), f32)
    one_hot[np.arange(v), np.arange(v)] = 1
    positions = np.zeros((length, d), f32)
    positions[np.arange(length), v + np.arange(length)] = 1
    encoder.embeddings[0].weight = one_hot
    encoder.scale_embeddings = False
    encoder.position_encodings.encodings = positions
    silent_block(encoder.layer[0])
    norm(encoder.layer_norm)

    decoder.embeddings.weight = np.zeros((t, d), f32)
    decoder.scale_embeddings = False
    decoder.position_encodings.encodings = positions.copy()
    layer = decoder.layer[0]
    silent_block(layer)
    attention = layer.attention
    norm(attention.layer_norm)
    query = np.zeros((d, d), f32)
    query[v + np.arange(length), v + np.arange(length)] = 10.0
    attention.linear[0].weight, attention.linear[0].bias = query, np.zeros(d, f32)
    keys_values = np.zeros((2 * d, d), f32)
    keys_values[v + np.arange(length), v + np.arange(length)] = 1.0
    keys_values[d + np.arange(v), np.arange(v)] = 1.0
    attention.linear[1].weight, attention.linear[1].bias = keys_values, np.zeros(2 * d, f32)
    output = np.zeros((d, d), f32)
    output[v + length + np.arange(v), np.arange(v)] = 1.0
    attention.linear[2].weight, attention.linear[2].bias = output, np.zeros(d, f32)
    norm(decoder.layer_norm)
    projection = np.zeros((t, d), f32)
    for i, piece in enumerate(source_vocab):
        projection[target_index[target_of.get(piece, piece)], v + length + i] = 10.0
    decoder.projection.weight, decoder.projection.bias = projection, np.zeros(t, f32)

    spec.config.add_source_eos = True
    spec.register_source_vocabulary(source_vocab)
    spec.register_target_vocabulary(target_vocab)
    return spec


def build_package(
    folder: Path,
    source: str,
    target: str,
    lexicon: Mapping[str, str],
    symbols: list[str] = (),  # type: ignore[assignment]
) -> Path:
    """Write ``translate-{source}_{target}.argosmodel`` in ``folder`` and return its path.

    ``lexicon`` maps source words to target strings (``▁`` is a space; ``NOTHING`` deletes);
    ``symbols`` are further words kept whole and copied unchanged (placeholders)."""
    words = [word for word in lexicon if word != "▁"] + list(symbols)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([" ".join(words), "abcdefghijklmnopqrstuvwxyz .,?!"] * 4),
        model_writer=model,
        vocab_size=len(words) + 40,
        user_defined_symbols=words,
        control_symbols=[NOTHING],
        hard_vocab_limit=False,
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    source_vocab = SPECIALS + [piece for piece in pieces if piece not in SPECIALS]
    target_of = dict(lexicon)
    target_vocab = SPECIALS + sorted(
        {target_of.get(piece, piece) for piece in source_vocab} - set(SPECIALS)
    )

    name = f"translate-{source}_{target}-1_0"
    root = folder / "build" / name
    _HandMadeConverter(_spec(source_vocab, target_vocab, target_of)).convert(
        str(root / "model"), force=True
    )
    (root / "sentencepiece.model").write_bytes(model.getvalue())
    metadata = {
        "package_version": "1.0",
        "argos_version": "1.0",
        "from_code": source,
        "from_name": source,
        "to_code": target,
        "to_name": target,
        "type": "translate",
    }
    (root / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    path = folder / f"{name}.argosmodel"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(root.rglob("*")):
            archive.write(file, file.relative_to(root.parent))
    return path
