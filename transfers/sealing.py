"""Real PDF signatures: once both parties have signed a paper, the platform signs the final PDF with its
certificate (PAdES, pyHanko), after embedding the signing record (who signed for which side, when, the
name they typed, the SHA-256 of the bytes they read) as a text attachment, so the signed file carries
the record and verifies in any PDF reader that trusts the platform's certificate.

The certificate and key come from settings.PAPERS_SIGNING_CERT / PAPERS_SIGNING_KEY (PEM paths);
`make run` generates a local self-signed pair into .local/ (`generate_self_signed`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings


class SealingUnavailable(Exception):
    """No signing certificate is configured."""


def signing_record_text(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


@lru_cache(maxsize=4)
def _signer(cert_path: str, key_path: str) -> Any:
    from pyhanko.sign import signers

    return signers.SimpleSigner.load(key_path, cert_path, key_passphrase=None)


def configured() -> bool:
    cert, key = getattr(settings, "PAPERS_SIGNING_CERT", ""), getattr(settings, "PAPERS_SIGNING_KEY", "")
    return bool(cert and key and Path(cert).is_file() and Path(key).is_file())


def seal_pdf(pdf: bytes, *, record: dict[str, Any], reason: str, location: str = "") -> bytes:
    """The PDF with the signing record embedded (signing-record.json) and a PAdES signature by the
    platform's certificate over all of it."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    if not configured():
        raise SealingUnavailable("PAPERS_SIGNING_CERT / PAPERS_SIGNING_KEY are not set or missing")
    signer = _signer(str(settings.PAPERS_SIGNING_CERT), str(settings.PAPERS_SIGNING_KEY))
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    data = signing_record_text(record)
    embedded = embed.EmbeddedFileObject.from_file_data(
        writer, data=data, mime_type="application/json",
        params=embed.EmbeddedFileParams(embed_size=True, embed_checksum=True))
    embed.embed_file(writer, embed.FileSpec(
        file_spec_string="signing-record.json", file_name="signing-record.json", embedded_data=embedded,
        description="Signing record: " + hashlib.sha256(data).hexdigest()))
    meta = signers.PdfSignatureMetadata(field_name="PlatformSeal", subfilter=fields.SigSeedSubFilter.PADES,
                                        reason=reason[:200], location=location[:100] or None,
                                        md_algorithm="sha256")
    out = signers.sign_pdf(writer, meta, signer=signer)
    return bytes(out.getvalue())


def generate_self_signed(cert_path: Path, key_path: Path, *, common_name: str = "ipex local papers") -> None:
    """A throwaway self-signed signing certificate (development and tests; never production)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ipex (development)")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
