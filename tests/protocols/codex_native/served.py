"""A gateway over HTTPS (a throwaway self-signed certificate) in front of a simulator."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gptgate.accounts.model import Account
from gptgate.app import create_app
from gptgate.gateway import Gateway
from gptgate.server import ssl_context
from gptgate.settings import Settings
from gptgate.simulator.server import RunningSimulator

KEY = "gg-codex-test-key"


def make_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost:
    (certificate chain file, its key file, the CA file clients trust). rustls (Codex CLI) refuses
    a CA certificate as a server's own, so the two are distinct, as a real deployment's are."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gptgate test CA")])
    now = datetime.datetime.now(datetime.UTC)
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    alt = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    leaf = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key.public_key(), now
        )
        .add_extension(alt, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain, key_path, ca_path = directory / "cert.pem", directory / "key.pem", directory / "ca.pem"
    pem = serialization.Encoding.PEM
    chain.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    ca_path.write_bytes(ca.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return chain, key_path, ca_path


def _builder(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def client_context(cert: Path) -> ssl.SSLContext:
    """A client that trusts only the test certificate."""
    return ssl.create_default_context(cafile=str(cert))


@dataclass
class Tls:
    base_url: str
    gateway: Gateway
    ssl: ssl.SSLContext


@asynccontextmanager
async def tls_gateway(
    simulator: RunningSimulator, tmp: Path, accounts: list[Account], **overrides: Any
) -> AsyncIterator[Tls]:
    """gptgate serving HTTPS (``tls_cert``/``tls_key``) with the simulator as its Codex upstream."""
    cert, key, ca = make_cert(tmp)
    settings = Settings(
        codex_base_url=simulator.base_url + "/backend-api/codex",
        tls_cert=cert,
        tls_key=key,
        **{"fetch_upstream_models": False, "account_store": False, "usage_poll_seconds": 0, **overrides},
    )
    gateway = Gateway(settings, accounts)
    runner = web.AppRunner(create_app(gateway), handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context(settings))
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Tls(f"https://127.0.0.1:{port}", gateway, client_context(ca))
    finally:
        await runner.cleanup()


async def fetch_models(gateway: Gateway) -> None:
    """Read the upstream's model list into the catalogue now (as the gateway does at start)."""
    for account in gateway.pool.accounts:
        infos = await gateway.upstreams["codex"].list_models(account)
        gateway.catalog.add_upstream(infos)
        return
    await asyncio.sleep(0)


@asynccontextmanager
async def codex_client(
    simulator: RunningSimulator, tmp: Path, accounts: list[Account], **overrides: Any
) -> AsyncIterator[tuple[Tls, aiohttp.ClientSession]]:
    """:func:`tls_gateway` and an HTTP client that trusts its certificate."""
    async with tls_gateway(simulator, tmp, accounts, **overrides) as gw:
        connector = aiohttp.TCPConnector(ssl=gw.ssl)
        async with aiohttp.ClientSession(connector=connector) as http:
            yield gw, http
