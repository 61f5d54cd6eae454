"""Refuse webhook URLs that would make the server call into its own network (SSRF).

A URL is checked when the subscription is saved *and* again before every delivery, on the
addresses its host resolves to at that moment, and the request is then sent to exactly the
address that was checked: a DNS name that later re-points at 127.0.0.1 or the cloud metadata
service (DNS rebinding) is caught.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.errors import Invalid, field_error

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints, named even though the ranges below already cover them.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeURL(Invalid):
    code = "webhook.url_forbidden"


def _refuse(reason_zh: str, reason_en: str) -> UnsafeURL:
    return UnsafeURL(
        zh=f"推送地址不允许:{reason_zh}",
        en=f"The webhook URL is not allowed: {reason_en}",
        errors=[field_error("body.url", "url_forbidden", reason_zh, reason_en)],
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def is_forbidden_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip in METADATA
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global  # shared (100.64/10), documentation and other special ranges
    )


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _refuse("域名无法解析", "the host name does not resolve") from exc
    seen: dict[IPAddress, None] = {}
    for info in infos:
        seen[ipaddress.ip_address(str(info[4][0]).split("%")[0])] = None
    return tuple(seen)


def check_url(url: str, *, allow_private: bool) -> Target:
    """Parse, resolve and vet `url`; raise `UnsafeURL` (422) if it may not be called."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse("地址格式错误", "malformed URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refuse("只允许 http 或 https", "only http and https are allowed")
    if parts.username or parts.password:
        raise _refuse("地址中不能含用户名或密码", "credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refuse("缺少主机名", "the host is missing")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not addresses:
        raise _refuse("域名无法解析", "the host name does not resolve")
    if not allow_private and any(is_forbidden_address(ip) for ip in addresses):
        raise _refuse(
            "指向本机、内网、链路本地、组播、保留或云元数据地址",
            "it points to a loopback, private, link-local, multicast, reserved or metadata address",
        )
    return Target(scheme=scheme, host=host, port=port, addresses=addresses)
