"""Playing docs/operations.md's deploy runbook: its blocks, a TLS certificate, a systemctl.

The runbook's ``bash`` blocks run in one shell, in order, with the first block's settings
replaced by the test's (temporary directories, free ports, a fresh database). What a test
machine lacks — systemd, a certificate from a CA — is provided by the stand-ins here, named
in the page's "What the runbook test substitutes" table.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SECTION = "## Deploy a partnership gateway"
BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EXPORT = re.compile(r"^export (?P<name>[A-Z_]+)=(?P<value>\S+)(?P<comment>\s+#.*)?$")


def runbook_blocks(page: str) -> list[str]:
    """The ``bash`` blocks of the deploy section, in order."""
    section = page.split(SECTION + "\n", 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    return [match.group(1) for match in BLOCK.finditer(section)]


def substitute(block: str, values: dict[str, str]) -> str:
    """Replace the values of ``export NAME=value`` lines; every name must be there."""
    seen: set[str] = set()
    lines = []
    for line in block.splitlines():
        found = EXPORT.match(line)
        if found and found.group("name") in values:
            name = found.group("name")
            seen.add(name)
            lines.append(f"export {name}={shlex.quote(values[name])}")
        else:
            lines.append(line)
    missing = set(values) - seen
    assert not missing, f"the runbook's first block no longer sets {sorted(missing)}"
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_tls(directory: Path, address: str = "127.0.0.1") -> Tls:
    """A test CA and a server certificate for ``address`` signed by it (P-256)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ppsgate runbook test CA"))
        .issuer_name(_name("ppsgate runbook test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(address))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    tls.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tls.key.chmod(0o600)
    return tls


NGINX_MAIN = """\
# The test's nginx main configuration: what Debian's /etc/nginx/nginx.conf provides.
daemon on;
pid {state}/nginx.pid;
error_log {state}/nginx-error.log warn;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {state}/client_body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    include {sites}/*.conf;
}}
"""


def write_systemctl(bin_dir: Path, state: Path, systemd_dir: Path, sites: Path) -> None:
    """Put the ``systemctl`` stand-in on ``bin_dir`` (see the module docstring)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    (state / "nginx.conf").write_text(NGINX_MAIN.format(state=state, sites=sites))
    script = bin_dir / "systemctl"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from tests.support.runbook_systemctl import main\n"
        f"sys.exit(main(sys.argv[1:], state={str(state)!r}, units={str(systemd_dir)!r}))\n"
    )
    script.chmod(0o755)
