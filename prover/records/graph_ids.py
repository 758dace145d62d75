"""Content addresses of proof-graph nodes (re-exported by :mod:`prover.records.graph`).

A node id is ``sha256`` of the JSON text ``[kind, normalised text, backend]`` as
``json.dumps(..., ensure_ascii=False)`` writes it (``", "`` between items), hex; the same
statement, step, claim or goal gets the same id in every run and process, forever.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from json.encoder import encode_basestring

NODE_KINDS: frozenset[str] = frozenset({"statement", "step", "claim", "goal"})
#: the JSON encoder ids were first written with (for a backend that is not a string)
_ID_JSON = json.JSONEncoder(ensure_ascii=False).encode


def normalize_text(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return " ".join(text.split())


@lru_cache(maxsize=1 << 16)
def node_id(kind: str, text: str, backend: str) -> str:
    """Content address of a node: sha256 hex of (kind, normalised text, backend); stable forever.

    Memoised (a pure function of its arguments): a check run asks for the id of each claim
    twice, once for its graph node and once for its verdict row. The JSON text is written
    from its three strings with the encoder's own string escaper (the text
    ``json.dumps([kind, text, backend], ensure_ascii=False)`` gives, without building an
    encoder per call; a backend that is not a string goes through that encoder)."""
    check_kind(kind)
    norm = normalize_text(text)
    if isinstance(backend, str):
        payload = f"[{encode_basestring(kind)}, {encode_basestring(norm)}, " \
                  f"{encode_basestring(backend)}]"
    else:
        payload = _ID_JSON([kind, norm, backend])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def check_kind(kind: str) -> None:
    """Raise ValueError unless ``kind`` is one of :data:`NODE_KINDS`."""
    if kind not in NODE_KINDS:
        raise ValueError(f"unknown node kind {kind!r}; expected one of {sorted(NODE_KINDS)}")
