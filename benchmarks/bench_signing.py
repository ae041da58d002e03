"""Benchmark: sign and verify one DSSE envelope (in-toto Statement, Ed25519), µs per envelope.

What the report pays per envelope (build the canonical statement, PAE, sign, serialise) and what
evaluation pays per envelope (parse, check the statement and its subject, rebuild the expected
payload, verify the signature, check the key's window), on a bundle-sized predicate. Baselines in
the same run: the bare Ed25519 sign and verify of the same PAE bytes with ``cryptography`` — the
floor any signed envelope pays — and ``securesystemslib``'s DSSE sign/verify of the same payload.
Best of ``--repeat`` runs (≥ 3) of ``--count`` envelopes each.

Usage: python benchmarks/bench_signing.py [--count 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto_analyzer.attest import (
    BUNDLE_PREDICATE,
    INTOTO_PAYLOAD_TYPE,
    SigningKey,
    TrustedKey,
    pae,
    sign_envelope,
    statement_bytes,
    verify_envelope,
)
from crypto_analyzer.core.canonical_json import canonical_bytes
from crypto_analyzer.core.hashing import sha256_bytes


def _predicate() -> dict[str, object]:
    """About the size of a validation bundle with two horizons and 12 evidence artifacts."""
    horizon = {
        "horizon": 4,
        "ic": {"mean_ic": 0.031, "std_ic": 0.12, "t_hac": 3.2, "n_obs": 1200, "n_assets": 20},
        "multiple_testing": {"p_value": 0.001, "bh_adjusted_p": 0.004, "by_adjusted_p": 0.01},
    }
    artifacts = [
        {"name": f"evidence/{i}.json", "sha256": sha256_bytes(str(i).encode()), "size": 1000 + i}
        for i in range(12)
    ]
    return {"artifacts": artifacts, "horizons": [horizon, {**horizon, "horizon": 1}], "v": 1}


def best_us(work: Callable[[], None], count: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(count):
            work()
        times.append(time.perf_counter() - start)
    return min(times) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.repeat < 3:
        parser.error("--repeat must be at least 3 (best of ≥ 3)")
    private = Ed25519PrivateKey.generate()
    key = SigningKey.from_private(private, "bench")
    predicate = _predicate()
    artifact = canonical_bytes(predicate)
    subject = sha256_bytes(artifact)
    envelope = sign_envelope(
        statement_bytes("bundle/x.json", subject, BUNDLE_PREDICATE, predicate),
        INTOTO_PAYLOAD_TYPE,
        key,
    )
    data = envelope.to_bytes()
    trusted = {key.key_id: TrustedKey(key.public)}
    at = datetime.now(UTC)

    def sign() -> None:
        payload = statement_bytes("bundle/x.json", subject, BUNDLE_PREDICATE, predicate)
        sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key).to_bytes()

    def verify() -> None:
        expected = statement_bytes("bundle/x.json", subject, BUNDLE_PREDICATE, predicate)
        check = verify_envelope(
            data, name="e", keys=trusted.get, at=at, predicate_type=BUNDLE_PREDICATE,
            subject_sha256=subject, expected_payload=expected,
        )  # fmt: skip
        assert check.verified

    message = pae(INTOTO_PAYLOAD_TYPE, envelope.payload)
    signature = private.sign(message)
    public = private.public_key()
    rows = [
        (
            "sign envelope (statement + PAE + Ed25519 + JSON)",
            best_us(sign, args.count, args.repeat),
        ),
        ("verify envelope (all checks)", best_us(verify, args.count, args.repeat)),
        (
            "floor: bare Ed25519 sign of the PAE",
            best_us(lambda: private.sign(message), args.count, args.repeat),
        ),
        (
            "floor: bare Ed25519 verify of the PAE",
            best_us(lambda: public.verify(signature, message), args.count, args.repeat),
        ),
    ]
    try:
        from securesystemslib.dsse import Envelope as SslibEnvelope
        from securesystemslib.signer import CryptoSigner, SSlibKey
    except ImportError:  # pragma: no cover - the `signing` extra
        pass
    else:
        sslib_key = SSlibKey(key.key_id, "ed25519", "ed25519", {"public": key.public.hex})
        signer = CryptoSigner(private, sslib_key)
        theirs = SslibEnvelope(envelope.payload, INTOTO_PAYLOAD_TYPE, {})
        theirs.sign(signer)

        def sslib_sign() -> None:
            SslibEnvelope(envelope.payload, INTOTO_PAYLOAD_TYPE, {}).sign(signer)

        rows.append(("securesystemslib DSSE sign", best_us(sslib_sign, args.count, args.repeat)))
        rows.append(
            (
                "securesystemslib DSSE verify",
                best_us(lambda: theirs.verify([sslib_key], 1), args.count, args.repeat),
            )
        )
    print(f"envelope {len(data):,} bytes; best of {args.repeat} × {args.count} envelopes")
    for label, micros in rows:
        print(f"{label:<52} {micros:9.1f} µs")


if __name__ == "__main__":
    main()
