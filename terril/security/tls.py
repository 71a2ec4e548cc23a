"""A development certificate authority and server certificate for the local stack's TLS listener.

Made with the ``cryptography`` package: an EC P-256 CA (valid 2 years) and a
server certificate for ``localhost`` and ``127.0.0.1`` signed by it (valid 1 year).
Private keys are written 0600. Production uses certificates from a real CA
(docs/security.md); these files are for development and tests only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Paths of a CA and a server certificate with its key (PEM)."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _write_key(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_dev_certificates(out_dir: str | os.PathLike[str], hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
                           *, now: dt.datetime | None = None) -> TlsFiles:
    """Create (or keep, when present and not expiring within 30 days) a dev CA and a server certificate.

    Parameters
    ----------
    out_dir : folder for ``ca.crt``, ``ca.key``, ``server.crt``, ``server.key``.
    hosts : DNS names and IP addresses the server certificate is valid for.
    now : current time (UTC) [datetime]; injectable for tests.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    files = TlsFiles(out / CA_CERT, out / SERVER_CERT, out / SERVER_KEY)
    now = now or dt.datetime.now(dt.timezone.utc)
    if all(p.exists() for p in (files.ca_cert, files.server_cert, files.server_key)):
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        if cert.not_valid_after_utc - now > dt.timedelta(days=30):
            return files

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Terril development"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Terril development CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=730))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))

    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    server_cert = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
                   .issuer_name(ca_name).public_key(server_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName(names), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))

    pem = serialization.Encoding.PEM
    no_pass = serialization.NoEncryption()
    _write_key(out / CA_KEY, ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_pass))
    _write_key(files.server_key, server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_pass))
    files.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    files.server_cert.write_bytes(server_cert.public_bytes(pem))
    return files


def mosquitto_tls_listener(port: int, files: TlsFiles, bind: str = "127.0.0.1") -> str:
    """The Mosquitto configuration lines of a TLS listener using ``files``."""
    return (f"listener {port} {bind}\n"
            f"certfile {files.server_cert}\n"
            f"keyfile {files.server_key}\n"
            f"cafile {files.ca_cert}\n"
            "tls_version tlsv1.2\n")
