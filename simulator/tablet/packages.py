"""The process's packages: one copy of each, opened once per key.

A unit's encrypted package is byte-identical for every candidate (the server builds it
once), yet each tablet downloads it, as a real tablet must: the download is the load.
Kept per tablet, the copies were most of the generator's memory (~1.2 MB a tablet for
five units), and 9,800 decryptions and decodings within seconds of the launch were its
CPU peak. A tablet still downloads its package and checks its digest; this store then
hands it the process's one copy, and the questions of a (package, key) pair that some
tablet already opened. A wrong key is not in the store and fails as it would have: only
a package that decrypted is remembered.

``shared=False`` keeps the old behaviour (one copy and one decryption per tablet), for
``bench/fleet_memory.py`` to measure what sharing saves in the same run.
"""

from __future__ import annotations

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigie.wire.http import LockedQuestion, PackageDoc, QuestionDoc

Questions = tuple[QuestionDoc | LockedQuestion, ...]

_package_doc = msgspec.json.Decoder(PackageDoc)
#: a run has a handful of units and one key each: past this, something is wrong, and the
#: store forgets rather than grows
MAX_ENTRIES = 64


def package_questions(doc: PackageDoc) -> Questions:
    """The package's questions typed: in clear, or a locked dossier stub."""
    out: list[QuestionDoc | LockedQuestion] = []
    for raw in doc.questions:
        try:
            out.append(msgspec.convert(raw, QuestionDoc))
        except msgspec.ValidationError:
            out.append(msgspec.convert(raw, LockedQuestion))
    return tuple(out)


def open_package(package: bytes, key: bytes, unit_id: str) -> Questions:
    """Decrypt (AES-GCM, nonce first, the unit id as associated data) and decode.

    Raises InvalidTag, msgspec.DecodeError or ValueError on a bad package or key."""
    plain = AESGCM(key).decrypt(package[:12], package[12:], unit_id.encode())
    return package_questions(_package_doc.decode(plain))


class PackageStore:
    """Content-addressed packages and their opened questions, for one process."""

    __slots__ = ("_bodies", "_opened", "shared")

    def __init__(self, shared: bool = True) -> None:
        self.shared = shared
        self._bodies: dict[str, bytes] = {}  # sha256 hex -> body
        self._opened: dict[tuple[str, str, bytes], Questions] = {}

    def keep(self, digest: str, body: bytes) -> bytes:
        """The one copy of a checked body (``digest`` is its sha256): this one, the first
        time; the copy already kept afterwards, so that the caller's is freed."""
        if not self.shared:
            return body
        if len(self._bodies) >= MAX_ENTRIES and digest not in self._bodies:
            self._bodies.clear()
        return self._bodies.setdefault(digest, body)

    def open(self, digest: str, body: bytes, key: bytes, unit_id: str) -> Questions:
        """The questions of ``body`` under ``key``, decrypted once per process."""
        if not self.shared:
            return open_package(body, key, unit_id)
        entry = (digest, unit_id, key)
        questions = self._opened.get(entry)
        if questions is None:
            questions = open_package(body, key, unit_id)
            if len(self._opened) >= MAX_ENTRIES:
                self._opened.clear()
            self._opened[entry] = questions
        return questions

    def __len__(self) -> int:
        return len(self._bodies)


#: the process's store (a Locust worker's tablets all share it)
PACKAGES = PackageStore()
