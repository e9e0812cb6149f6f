"""A throwaway certificate authority for the test registries and the token service."""

from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=30)
# Certificates start slightly in the past so a skewed clock in a VM does not reject them.
BACKDATE = datetime.timedelta(hours=1)


def _write_private(path, data: bytes):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oci.registry tests"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject, issuer, public_key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
    )


class CertificateAuthority:
    """Writes ca.pem, the TLS server pair and the token signing pair into one directory."""

    def __init__(self, directory):
        self.directory = directory
        self.ca_path = os.path.join(directory, "ca.pem")
        self.cert_dir = os.path.join(directory, "certs.d")
        self.server_cert_path = os.path.join(directory, "server.pem")
        self.server_key_path = os.path.join(directory, "server.key")
        self.signing_cert_path = os.path.join(directory, "token-signing.pem")
        self.signing_key_path = os.path.join(directory, "token-signing.key")

    def create(self):
        os.makedirs(self.cert_dir, exist_ok=True)
        ca_key = _new_key()
        ca_name = _name("oci.registry test CA")
        ca_cert = (
            _builder(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
        with open(self.ca_path, "wb") as handle:
            handle.write(ca_pem)
        # skopeo/containers-image read every *.crt in --cert-dir as a trusted CA.
        with open(os.path.join(self.cert_dir, "ca.crt"), "wb") as handle:
            handle.write(ca_pem)

        server_key = _new_key()
        server_cert = (
            _builder(_name("127.0.0.1"), ca_name, server_key.public_key())
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        # The registry and the token service read the chain from one file; the CA goes after the leaf.
        with open(self.server_cert_path, "wb") as handle:
            handle.write(server_cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
        _write_private(self.server_key_path, _key_pem(server_key))

        # RS256 needs an RSA key; the registry verifies the x5c chain of this certificate against ca.pem.
        signing_key = _new_key()
        signing_cert = (
            _builder(_name("oci.registry test token signer"), ca_name, signing_key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        with open(self.signing_cert_path, "wb") as handle:
            handle.write(signing_cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
        _write_private(self.signing_key_path, _key_pem(signing_key))
        return self
