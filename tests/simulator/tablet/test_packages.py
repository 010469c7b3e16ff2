"""The process's package store: one copy per package, one decryption per key."""

from __future__ import annotations

import hashlib
import os

import msgspec
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simulator.tablet.packages import MAX_ENTRIES, PackageStore
from tests.simulator.tablet.test_exam import KEY, UNIT, package
from vigie.wire.http import PackageDoc


def copy(body: bytes) -> bytes:
    return bytes(bytearray(body))  # equal, another object: what a second download gives


def test_a_second_download_of_the_same_package_gives_back_the_first_copy() -> None:
    store = PackageStore()
    body = package()
    digest = hashlib.sha256(body).hexdigest()
    first = store.keep(digest, body)
    again = store.keep(digest, copy(body))
    assert first is body and again is body
    other = package()  # another nonce: another package
    assert store.keep(hashlib.sha256(other).hexdigest(), other) is other
    assert len(store) == 2


def test_a_package_is_opened_once_per_key_and_a_wrong_key_still_fails() -> None:
    store = PackageStore()
    body = package()
    digest = hashlib.sha256(body).hexdigest()
    with pytest.raises(InvalidTag):
        store.open(digest, body, os.urandom(32), UNIT)
    questions = store.open(digest, body, KEY, UNIT)
    assert [q.id for q in questions] == ["q0", "q1", "q2"]
    assert store.open(digest, copy(body), KEY, UNIT) is questions
    with pytest.raises(InvalidTag):  # only what decrypted was remembered
        store.open(digest, body, os.urandom(32), UNIT)
    with pytest.raises(InvalidTag):  # the unit id is the associated data
        store.open(digest, body, KEY, "ue9")


def test_unshared_every_tablet_keeps_and_opens_its_own() -> None:
    store = PackageStore(shared=False)
    body = package()
    digest = hashlib.sha256(body).hexdigest()
    twin = copy(body)
    assert store.keep(digest, twin) is twin
    assert store.open(digest, body, KEY, UNIT) is not store.open(digest, body, KEY, UNIT)
    assert len(store) == 0


def test_the_store_forgets_rather_than_grows() -> None:
    store = PackageStore()
    for n in range(MAX_ENTRIES + 5):
        body = n.to_bytes(4, "big")
        store.keep(hashlib.sha256(body).hexdigest(), body)
    assert len(store) <= MAX_ENTRIES
    nonce = os.urandom(12)
    plain = msgspec.json.encode(PackageDoc(unit_id=UNIT, questions=[]))
    sealed = nonce + AESGCM(KEY).encrypt(nonce, plain, UNIT.encode())
    digest = hashlib.sha256(sealed).hexdigest()
    for _ in range(MAX_ENTRIES + 5):
        assert store.open(digest, sealed, KEY, UNIT) == ()
