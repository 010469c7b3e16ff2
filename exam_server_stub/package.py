"""The encrypted subject package of a unit, built once at startup and served from memory."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigie.demo import Unit


def package_document(unit: Unit) -> dict[str, Any]:
    """Every isolated question, each dossier's opening; later dossier questions locked."""
    questions = [
        q.to_json() if q.dossier_id is None or q.dossier_index == 0 else q.locked_stub()
        for q in unit.questions
    ]
    return {"unit_id": unit.id, "questions": questions}


def build_package(unit: Unit, key: bytes, nonce: bytes) -> tuple[bytes, str]:
    """12-byte nonce + AES-256-GCM(ciphertext+tag), associated data = unit id; and its sha256."""
    plain = orjson.dumps(package_document(unit))
    body = nonce + AESGCM(key).encrypt(nonce, plain, unit.id.encode())
    return body, hashlib.sha256(body).hexdigest()


def open_package(body: bytes, key: bytes, unit_id: str) -> dict[str, Any]:
    """What a tablet does after the launch (used by tests and the demo CLI)."""
    doc: dict[str, Any] = orjson.loads(AESGCM(key).decrypt(body[:12], body[12:], unit_id.encode()))
    return doc
