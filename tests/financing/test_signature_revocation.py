"""Revocation of appraisers' signing certificates, checked offline: a throwaway CA (made here with
`cryptography`) issues a good and a revoked signer and publishes a CRL revoking the second; the CRL
reaches pyHanko's ValidationContext through `APPRAISAL_CRLS`. A revoked signer's report is refused with
the date and the reason, nothing written; a good signer's is accepted; a certificate naming a CRL that
cannot be had is refused under hard-fail (fetching is off in tests)."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from financing import services
from financing.models import Appraisal, PartnerKind
from financing.signatures import SignatureProblem, verify_report
from tests.factories import deliver_payment, finance_partner, report_pdf, rights_holder

pytestmark = pytest.mark.django_db
CRL_URL = "http://crl.appraisers-ca.example.test/ca.crl"


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Appraisers CA Ltd.")])


def _pem(path, obj):
    path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    return path


def _key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@pytest.fixture
def pki(tmp_path, settings):
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (x509.CertificateBuilder().subject_name(_name("Test Appraisers Root CA"))
          .issuer_name(_name("Test Appraisers Root CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    def signer(cn):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=10)).not_valid_after(now + dt.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(CRL_URL)], relative_name=None, reasons=None,
                    crl_issuer=None)]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        return _pem(tmp_path / f"{cn}.crt", cert), _key(tmp_path / f"{cn}.key", key), cert

    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
           .issuer_name(ca.subject).public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now - dt.timedelta(days=10)).not_valid_after(now + dt.timedelta(days=365))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
           .sign(ca_key, hashes.SHA256()))
    tsa_paths = (_pem(tmp_path / "tsa.crt", tsa), _key(tmp_path / "tsa.key", tsa_key))
    good = signer("Wang Fang, Certified Appraiser")
    revoked = signer("Li Lei, Certified Appraiser")
    revoked_entry = (x509.RevokedCertificateBuilder().serial_number(revoked[2].serial_number)
                     .revocation_date(now - dt.timedelta(days=2))
                     .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False).build())
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
           .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7))
           .add_revoked_certificate(revoked_entry)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
           .add_extension(x509.CRLNumber(1), critical=False)
           .sign(ca_key, hashes.SHA256()))
    ca_path = _pem(tmp_path / "ca.crt", ca)
    crl_path = tmp_path / "ca.crl"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    settings.APPRAISAL_TRUST_ROOTS = [str(ca_path)]
    settings.APPRAISAL_CRLS = [str(crl_path)]
    settings.APPRAISAL_REVOCATION_FETCH = False
    settings.APPRAISAL_REVOCATION_MODE = "hard-fail"
    return {"ca": ca_path, "crl": crl_path, "good": good, "revoked": revoked, "tsa": tsa_paths}


def _signed(signer, ca_path, tsa=None) -> bytes:
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    cert, key, _c = signer
    simple = signers.SimpleSigner.load(str(key), str(cert), ca_chain_files=(str(ca_path),), key_passphrase=None)
    writer = IncrementalPdfFileWriter(BytesIO(report_pdf()))
    meta = signers.PdfSignatureMetadata(field_name="Appraiser", subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason="Appraisal report")
    timestamper = None
    if tsa is not None:
        from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        timestamper = DummyTimeStamper(tsa_cert=load_cert_from_pemder(str(tsa[0])),
                                       tsa_key=load_private_key_from_pemder(str(tsa[1]), passphrase=None))
    return bytes(signers.sign_pdf(writer, meta, signer=simple, timestamper=timestamper).getvalue())


def test_a_good_signer_is_accepted_with_the_crl(pki):
    signature = verify_report(_signed(pki["good"], pki["ca"]))
    assert signature.signer == "Wang Fang, Certified Appraiser"
    assert "Test Appraisers Root CA" in signature.issuer


def test_a_revoked_signer_is_refused_with_the_date_and_reason(pki):
    with pytest.raises(SignatureProblem) as refused:
        verify_report(_signed(pki["revoked"], pki["ca"]))
    message = str(refused.value)
    assert "Li Lei, Certified Appraiser" in message
    assert "was revoked on" in message
    assert (timezone.now() - dt.timedelta(days=2)).strftime("%Y-%m-%d") in message


def test_without_the_crl_hard_fail_refuses_and_soft_fail_accepts(pki, settings):
    settings.APPRAISAL_CRLS = []
    with pytest.raises(SignatureProblem, match="could not be checked"):
        verify_report(_signed(pki["good"], pki["ca"]))
    settings.APPRAISAL_REVOCATION_MODE = "soft-fail"
    assert verify_report(_signed(pki["good"], pki["ca"])).signer == "Wang Fang, Certified Appraiser"


def test_the_appraiser_uploading_a_revoked_signers_report_changes_nothing(tenant, pki, settings):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    org, client_user, records = rights_holder(n=1)
    appraiser, appraiser_user = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=10_000_00)
    appraisal = services.appraisal_order(actor=client_user, organization=org, appraiser=appraiser,
                                         record_ids=[records[0].pk])
    deliver_payment(services.appraisal_pay_start(actor=client_user, appraisal=appraisal, provider="simulated"))
    report = SimpleUploadedFile("r.pdf", _signed(pki["revoked"], pki["ca"]), content_type="application/pdf")
    with pytest.raises(Exception, match="was revoked on"):
        services.appraisal_deliver(actor=appraiser_user, appraisal=appraisal, report=report,
                                   value_minor=1_000_000_00, value_date=timezone.localdate())
    appraisal = Appraisal.objects.get(pk=appraisal.pk)
    assert appraisal.state == "paid"
    assert not appraisal.report


def test_a_required_timestamp_must_come_from_an_accepted_tsa(pki, settings, tmp_path):
    from tests.factories import throwaway_ca

    settings.APPRAISAL_REQUIRE_TIMESTAMP = True
    settings.APPRAISAL_TSA_ROOTS = [str(pki["ca"])]
    with pytest.raises(SignatureProblem, match="carries no timestamp"):
        verify_report(_signed(pki["good"], pki["ca"]))
    signature = verify_report(_signed(pki["good"], pki["ca"], tsa=pki["tsa"]))
    assert abs((signature.signed_at - timezone.now()).total_seconds()) < 300  # the token's time
    other, _key = throwaway_ca(tmp_path, common_name="Another TSA Root")
    settings.APPRAISAL_TSA_ROOTS = [str(other)]
    with pytest.raises(SignatureProblem, match="not from a time-stamping authority"):
        verify_report(_signed(pki["good"], pki["ca"], tsa=pki["tsa"]))
