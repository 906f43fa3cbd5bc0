"""Log lines to measure redaction on: secret-bearing ones, generated, and ordinary ones from real-looking services.

Every secret is made at run time from a seeded RNG, in the shape of the real thing (an AWS key id, a GitHub token, a
PEM private key, a password with a space and a comma ...), so the repository holds none and a run is repeatable.
A secret sample is one log event, or several consecutive events of one log stream (a private key logged line by
line), with the values that must not reach Jira, nor any 8-character piece of them.

The ordinary lines are what services write every day: web and load-balancer access logs, Lambda's START / END /
REPORT lines, Java and Python stack traces, JSON structured logs with request ids, ARNs, UUIDs and trace ids,
database slow-query logs, container and Kubernetes logs. Their ids are random too, but of their real shapes.

Used by the tests (0 secrets leaked) and by ``bench/run.py --only redaction`` (share of ordinary lines changed).
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass

SEED = 20261102
LEAK_PIECE = 8  # a secret leaks when any run of this many of its characters reaches the output

UPPER, LOWER, DIGITS = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
# What people put in passwords: no quote or backslash (they would be escaped in the line), no '=' or ':' (a
# key=value line could not be read back either).
PASSWORD_CHARS = ALNUM + "!#$%^*()-_+.,;?~@[]{}"
WORDS = ("tulip", "maple", "ocean", "copper", "violet", "harbor", "quartz", "meadow", "falcon", "ember", "glacier")


@dataclass(frozen=True, slots=True)
class SecretSample:
    """Log events (one, or consecutive ones of one stream) holding ``secrets``, of ``kind`` written as ``form``."""

    kind: str
    form: str  # plain | json | logfmt | stack | url | events
    events: tuple[str, ...]
    secrets: tuple[str, ...]


def leaked(secret: str, output: str) -> str | None:
    """The first piece of ``secret`` (all of it when shorter than ``LEAK_PIECE``) found in ``output``."""
    if len(secret) < LEAK_PIECE:
        return secret if secret in output else None
    for start in range(len(secret) - LEAK_PIECE + 1):
        piece = secret[start : start + LEAK_PIECE]
        if piece in output:
            return piece
    return None


# ---- secret-bearing lines ---------------------------------------------------------------------------------


class SecretMaker:
    """Random values of the shapes secrets and ids have, from a seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, alphabet: str, n: int) -> str:
        """``n`` characters of ``alphabet`` with at least one upper, one lower and one digit (as real tokens have)."""
        while True:
            value = self.chars(alphabet, n)
            if any(c in UPPER for c in value) and any(c in LOWER for c in value) and any(c in DIGITS for c in value):
                return value

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, n: int) -> str:
        return self.chars(HEX, n)

    def ip(self) -> str:
        return f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    def password(self, *, spaced: bool) -> str:
        """A password; ``spaced`` ones hold a space and a comma, as a pass phrase does."""
        if not spaced:
            return self.chars(PASSWORD_CHARS, self.rng.randint(12, 24))
        first, second, third = self.rng.sample(WORDS, 3)
        return f"{first.title()}-{self.rng.randint(10, 99)} {second}, {third}{self.chars('!#%^*', 2)}"

    def when(self) -> str:
        return (
            f"2026-11-02T09:{self.rng.randint(0, 59):02d}:{self.rng.randint(0, 59):02d}.{self.rng.randint(0, 999):03d}Z"
        )


# Each token shape: a name for the report and how to make one.
_TOKENS: tuple[tuple[str, Callable[[SecretMaker], str]], ...] = (
    ("aws-access-key-id", lambda m: m.rng.choice(("AKIA", "ASIA")) + m.chars(UPPER + "234567", 16)),
    ("aws-secret-access-key", lambda m: m.mixed(B64, 40)),
    ("github-ghp", lambda m: "ghp_" + m.mixed(ALNUM, 36)),
    ("github-gho", lambda m: "gho_" + m.mixed(ALNUM, 36)),
    ("github-ghs", lambda m: "ghs_" + m.mixed(ALNUM, 36)),
    ("github-pat", lambda m: "github_pat_" + m.mixed(ALNUM, 22) + "_" + m.mixed(ALNUM, 59)),
    ("slack", lambda m: f"xox{m.rng.choice('bpa')}-{m.chars(DIGITS, 12)}-{m.chars(DIGITS, 13)}-{m.mixed(ALNUM, 24)}"),
    ("stripe", lambda m: m.rng.choice(("sk_live_", "rk_live_")) + m.mixed(ALNUM, 24)),
    ("jwt", lambda m: _jwt(m)),
    ("atlassian", lambda m: "ATATT3xFfGF0" + m.mixed(B64URL, 170) + "=" + m.chars(HEX.upper(), 8)),
    ("google-api-key", lambda m: "AIza" + m.mixed(B64URL, 35)),
    ("npm", lambda m: "npm_" + m.mixed(ALNUM, 36)),
    ("high-entropy-base64", lambda m: m.mixed(B64, m.rng.randint(32, 64)) + "=" * m.rng.randint(0, 2)),
    ("high-entropy-base64url", lambda m: m.mixed(B64URL, 43)),
)

# Where a token may sit in a line, by form. Nothing around it names it as a secret: its shape alone must tell.
_TOKEN_FORMS: tuple[tuple[str, Callable[[SecretMaker, str], str]], ...] = (
    ("plain", lambda m, t: f"{m.when()} ERROR upstream rejected the call made with {t} after 3 attempts"),
    ("plain", lambda m, t: f"WARN [worker-{m.rng.randint(1, 9)}] cached value {t} for tenant acme-corp"),
    (
        "json",
        lambda m, t: json.dumps(
            {"level": "error", "msg": "call failed", "detail": f"using {t}", "requestId": m.uuid()}
        ),
    ),  # fmt: skip
    ("logfmt", lambda m, t: f'level=error msg="call failed" cred={t} request_id={m.uuid()} duration_ms=42'),
    (
        "stack",
        lambda m, t: (
            "Traceback (most recent call last):\n"
            '  File "/var/task/app/client.py", line 88, in call\n'
            "    return session.send(request)\n"
            f"app.errors.UpstreamError: rejected {t} (HTTP 401)"
        ),
    ),  # fmt: skip
    (
        "stack",
        lambda m, t: (
            f"com.example.billing.UpstreamException: rejected {t}\n"
            "\tat com.example.billing.Client.call(Client.java:88)\n"
            "\tat com.example.billing.Worker.run(Worker.java:41)"
        ),
    ),  # fmt: skip
    ("url", lambda m, t: f'{m.ip()} - - [02/Nov/2026:09:00:01 +0000] "GET /v1/export?k={t}&page=2 HTTP/1.1" 502 173'),
)


def _jwt(m: SecretMaker) -> str:
    def part(claims: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    body = part({"sub": m.uuid(), "iat": m.rng.randint(1_700_000_000, 1_800_000_000), "scope": "orders:write"})
    return f"{header}.{body}.{m.chars(B64URL, 43)}"


# Secret names, as code and configuration spell them; each with the kind of value it holds.
_NAMES = (
    "password", "DB_PASS", "db_passwd", "mysqlPassword", "PGPASSWORD", "client_secret", "secret", "authToken",
    "refresh_token", "apikey", "api_key", "X-Api-Key", "credential", "credentials", "private_key", "sessionId",
    "session", "cookie", "auth", "signature", "connection_string", "connectionString", "smtp_pass", "passphrase",
)  # fmt: skip

_NAMED_FORMS: tuple[tuple[str, bool, Callable[[SecretMaker, str, str], str]], ...] = (
    # (form, whether the value may hold spaces and commas, line)
    ("json", True, lambda m, n, v: json.dumps({"level": "ERROR", "message": "login failed", n: v, "user": "bob"})),
    ("json", True, lambda m, n, v: json.dumps({"event": "config loaded", "db": {"host": "db.internal", n: v}})),
    ("json", True, lambda m, n, v: "request body: " + json.dumps({"user": "bob", n: v})),
    ("plain", True, lambda m, n, v: f"{n}: {v}"),  # YAML: the value runs to the end of the line
    ("plain", True, lambda m, n, v: f"settings {{'host': 'db.internal', '{n}': '{v}', 'port': 5432}}"),
    ("plain", True, lambda m, n, v: f"DataSourceConfig{{url='jdbc:postgresql://db/orders', {n}='{v}'}}"),
    ("plain", False, lambda m, n, v: f"export {n}={v}"),
    ("plain", False, lambda m, n, v: f"exec /usr/local/bin/worker --{n.lower()} {v} --verbose"),
    ("logfmt", False, lambda m, n, v: f"time={m.when()} level=error user=bob {n}={v} host=db.internal"),
    ("logfmt", True, lambda m, n, v: f'level=warn msg="retrying" {n}="{v}" attempt=2'),
    ("url", False, lambda m, n, v: f"POST https://auth.example.com/callback?state=ok&{n}={v}&next=%2Fhome 302"),
    ("url", False, lambda m, n, v: f"form body: username=bob&{n}={v}&remember=1"),
    (
        "stack",
        True,
        lambda m, n, v: (
            "Traceback (most recent call last):\n"
            '  File "/var/task/db.py", line 12, in connect\n'
            f'    conn = psycopg.connect(host="db", {n}="{v}")\n'
            "psycopg.OperationalError: connection refused"
        ),
    ),  # fmt: skip
)

_HEADERS: tuple[tuple[str, Callable[[SecretMaker], tuple[str, str]]], ...] = (
    ("Authorization", lambda m: (f"Token {(t := m.mixed(ALNUM, 40))}", t)),
    ("Authorization", lambda m: (f"Bearer {(t := m.mixed(B64URL, 48))}", t)),
    ("Authorization", lambda m: (f"Basic {(t := m.mixed(B64, 28))}=", t)),
    ("Authorization", lambda m: (f"ApiKey {(t := m.mixed(ALNUM, 32))}", t)),
    ("Authorization", lambda m: (f"SSWS {(t := m.mixed(B64URL, 42))}", t)),
    (
        "Authorization",
        lambda m: (f'Digest username="bob", realm="api", nonce="{m.hex(16)}", response="{(t := m.hex(32))}"', t),
    ),  # noqa: E501
    ("Proxy-Authorization", lambda m: (f"Basic {(t := m.mixed(B64, 32))}", t)),
    ("X-Api-Key", lambda m: ((t := m.mixed(ALNUM, 30)), t)),
    ("X-Auth-Token", lambda m: ((t := m.hex(40)), t)),
    ("Cookie", lambda m: (f"theme=dark; sessionid={(t := m.mixed(ALNUM, 32))}; lang=en", t)),
)

_HEADER_FORMS: tuple[tuple[str, Callable[[SecretMaker, str, str], str]], ...] = (
    ("plain", lambda m, h, v: f"DEBUG request headers: Host: api.example.com {h}: {v}"),
    ("plain", lambda m, h, v: f"{h}: {v}"),
    ("json", lambda m, h, v: json.dumps({"method": "GET", "path": "/orders", "headers": {"Accept": "*/*", h: v}})),
    ("logfmt", lambda m, h, v: f'level=debug msg="outgoing request" header="{h}: {v}" status=401'),
)


def secret_samples(seed: int = SEED) -> list[SecretSample]:
    """The secret-bearing corpus: every shape, in plain text, JSON, logfmt, stack traces and URLs."""
    m = SecretMaker(seed)
    samples: list[SecretSample] = []
    for kind, make in _TOKENS:
        for form, line in _TOKEN_FORMS:
            token = make(m)
            samples.append(SecretSample(kind, form, (line(m, token),), (token,)))
    for name in _NAMES:
        for form, spaced, line in m.rng.sample(_NAMED_FORMS, 3):
            value = m.password(spaced=spaced and m.rng.random() < 0.6)
            samples.append(SecretSample(f"named:{name}", form, (line(m, name, value),), (value,)))
    for header, value_of in _HEADERS:
        for form, line in _HEADER_FORMS:
            shown, secret = value_of(m)
            samples.append(SecretSample(f"header:{header}", form, (line(m, header, shown),), (secret,)))
    samples += _special_samples(m)
    return samples


def _special_samples(m: SecretMaker) -> list[SecretSample]:
    """The five leaks the first redaction missed, the private keys in every layout, connection strings, URLs."""
    samples: list[SecretSample] = []
    for label in ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        body = _pem_body(m)
        block = "\n".join((f"-----BEGIN {label}-----", *body, f"-----END {label}-----"))
        samples += [
            SecretSample(
                "pem", "plain", (f"ERROR could not parse key:\n{block}\nfalling back to the default key",), body
            ),
            SecretSample("pem", "json", (json.dumps({"level": "error", "private_key": block + "\n", "x": 1}),), body),
            SecretSample("pem", "json", (json.dumps({"level": "error", "msg": "bad key", "detail": block}),), body),
            SecretSample("pem", "events", ("ERROR loading signing key", *block.splitlines(), "using default"), body),
            SecretSample("pem", "events", (*block.splitlines(),), body),
            SecretSample(
                "pem", "stack", (f'ValueError: Could not deserialize key data: {block}\n  File "key.py"',), body
            ),
        ]
    for _ in range(4):
        phrase = m.password(spaced=True)
        samples += [
            SecretSample("json-password-spaced", "json", (json.dumps({"user": "bob", "password": phrase}),), (phrase,)),
            SecretSample("json-password-spaced", "json",
                         (json.dumps({"msg": "login", "payload": json.dumps({"password": phrase})}),), (phrase,)),
        ]  # fmt: skip
        token = m.mixed(ALNUM, 40)
        samples.append(SecretSample("authorization-token", "plain", (f"Authorization: Token {token}",), (token,)))
        pat = "github_pat_" + m.mixed(ALNUM, 22) + "_" + m.mixed(ALNUM, 59)
        samples.append(SecretSample("github-pat", "plain", (f"git clone failed for {pat}@github.com/acme/x",), (pat,)))
        db_pass = m.password(spaced=False)
        samples.append(SecretSample("db-pass", "plain", (f"env: DB_HOST=db.internal DB_PASS={db_pass} DB_PORT=5432",),
                                    (db_pass,)))  # fmt: skip
    for _ in range(6):
        account_key = m.mixed(B64, 86) + "=="
        connection = (
            f"DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={account_key};"
            "EndpointSuffix=core.windows.net"
        )
        samples.append(SecretSample("azure-storage", "plain", (f"blob client from {connection}",), (account_key,)))
        sas = m.mixed(B64, 43) + "="
        samples.append(SecretSample("azure-sas", "url",
                                    (f"PUT https://acme.blob.core.windows.net/c/x?sv=2022-11-02&sp=rw&sig={sas} 403",),
                                    (sas,)))  # fmt: skip
        password = m.password(spaced=False).replace("@", "").replace("/", "")
        scheme = m.rng.choice(("postgres", "mysql", "redis", "amqps", "mongodb+srv", "https"))
        url = f"{scheme}://app_user:{password}@db-{m.hex(6)}.internal:5432/orders"
        samples += [
            SecretSample("url-credentials", "url", (f"connecting to {url}",), (password,)),
            SecretSample("url-credentials", "json", (json.dumps({"msg": "pool", "dsn": url}),), (password,)),
        ]
    return samples


def _pem_body(m: SecretMaker) -> tuple[str, ...]:
    lines = [m.mixed(B64, 64) for _ in range(m.rng.randint(3, 6))]
    return (*lines, m.mixed(B64, m.rng.randint(16, 40)) + "==")


# ---- ordinary lines ---------------------------------------------------------------------------------------


def ordinary_lines(seed: int = SEED, per_template: int = 3) -> list[str]:
    """Log events of ordinary services (some span lines, as a stack trace does); no secret in any of them."""
    m = SecretMaker(seed)
    return [template(m) for template in _ORDINARY for _ in range(per_template)]


def _arn(m: SecretMaker, service: str, resource: str) -> str:
    return f"arn:aws:{service}:eu-west-1:{m.chars(DIGITS, 12)}:{resource}"


def _xray(m: SecretMaker) -> str:
    return f"1-{m.hex(8)}-{m.hex(24)}"


def _s(m: SecretMaker, *choices: str) -> str:
    return m.rng.choice(choices)


def _num(m: SecretMaker, low: float, high: float) -> str:
    return f"{m.rng.uniform(low, high):.2f}"


def _cfn_name(m: SecretMaker, base: str) -> str:
    return f"{base}-{m.chars(UPPER + DIGITS, 12)}"


_ORDINARY: tuple[Callable[[SecretMaker], str], ...] = (
    # Lambda's own lines
    lambda m: f"START RequestId: {m.uuid()} Version: $LATEST",
    lambda m: f"END RequestId: {m.uuid()}",
    lambda m: (
        f"REPORT RequestId: {m.uuid()}\tDuration: {_num(m, 1, 900)} ms\tBilled Duration: {m.rng.randint(2, 901)} ms"
        f"\tMemory Size: 512 MB\tMax Memory Used: {m.rng.randint(60, 200)} MB\tInit Duration: {_num(m, 200, 900)} ms"
    ),
    lambda m: f"XRAY TraceId: {_xray(m)}\tSegmentId: {m.hex(16)}\tSampled: true",
    lambda m: (
        f"INIT_START Runtime Version: python:3.13.v{m.rng.randint(10, 40)}\tRuntime Version ARN: "
        f"arn:aws:lambda:eu-west-1::runtime:{m.hex(64)}"
    ),
    lambda m: f"{m.when()}\t{m.uuid()}\tTask timed out after {m.rng.randint(3, 900)}.00 seconds",
    lambda m: (
        f"[ERROR] Runtime.ImportModuleError: Unable to import module 'app.handler': No module named "
        f"'{_s(m, 'pydantic_core', 'requests', 'orjson')}'\nTraceback (most recent call last):"
    ),
    # Powertools and other JSON structured logs
    lambda m: json.dumps(
        {
            "level": "ERROR",
            "location": f"handler:{m.rng.randint(10, 400)}",
            "message": "payment declined",
            "timestamp": m.when(),
            "service": "orders",
            "cold_start": False,
            "function_name": _cfn_name(m, "orders-api-ProcessFunction"),
            "function_memory_size": "512",
            "function_arn": _arn(m, "lambda", "function:orders-api-process"),
            "function_request_id": m.uuid(),
            "xray_trace_id": _xray(m),
            "order_id": f"ord_{m.chars(DIGITS, 8)}",
        }
    ),  # fmt: skip
    lambda m: json.dumps(
        {
            "level": "warn",
            "ts": m.when(),
            "caller": "cache/redis.go:118",
            "msg": "slow command",
            "cmd": "HGETALL",
            "key": f"cart:{m.uuid()}",
            "elapsed_ms": m.rng.randint(200, 900),
        }
    ),
    lambda m: json.dumps(
        {
            "severity": "ERROR",
            "logger": "com.example.orders.PaymentService",
            "thread": "http-nio-8080-exec-7",
            "message": f"Payment {m.uuid()} failed: card_declined",
            "traceId": m.hex(32),
            "spanId": m.hex(16),
        }
    ),  # fmt: skip  # noqa: E501
    lambda m: json.dumps(
        {
            "requestId": m.uuid(),
            "ip": m.ip(),
            "requestTime": "02/Nov/2026:09:00:01 +0000",
            "httpMethod": _s(m, "GET", "POST"),
            "resourcePath": "/orders/{id}",
            "status": "502",
            "protocol": "HTTP/1.1",
            "responseLength": "36",
            "extendedRequestId": m.mixed(ALNUM, 14) + "=",
            "integrationError": "Execution failed due to a timeout error",
        }
    ),  # fmt: skip
    lambda m: json.dumps(
        {
            "eventVersion": "1.09",
            "eventSource": "dynamodb.amazonaws.com",
            "eventName": "PutItem",
            "awsRegion": "eu-west-1",
            "errorCode": "ProvisionedThroughputExceededException",
            "requestID": m.chars(UPPER + DIGITS, 52),
            "eventID": m.uuid(),
            "userIdentity": {
                "type": "AssumedRole",
                "arn": _arn(m, "sts", "assumed-role/orders-api/x").replace(":eu-west-1:", "::"),
            },
        }
    ),  # fmt: skip
    lambda m: json.dumps(
        {
            "level": "info",
            "msg": "message processed",
            "messageId": m.uuid(),
            "queue": f"https://sqs.eu-west-1.amazonaws.com/{m.chars(DIGITS, 12)}/orders-events",
            "approximateReceiveCount": m.rng.randint(1, 5),
            "md5OfBody": m.hex(32),
        }
    ),
    lambda m: json.dumps(
        {
            "level": "error",
            "msg": "GuardDuty finding forwarded",
            "findingId": m.hex(32),
            "detectorId": m.hex(32),
            "severity": 5.0,
            "type": "Recon:EC2/PortProbeUnprotectedPort",
        }
    ),
    lambda m: json.dumps(
        {
            "level": "error",
            "msg": "Security Hub finding",
            "Id": _arn(
                m,
                "securityhub",
                f"subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/{m.uuid()}",
            ),
            "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
        }
    ),
    lambda m: json.dumps(
        {
            "level": "info",
            "msg": "state machine execution failed",
            "executionArn": _arn(m, "states", f"execution:order-saga:{m.uuid()}"),
            "error": "States.TaskFailed",
            "cause": "Lambda.ServiceException",
        }
    ),
    lambda m: json.dumps(
        {
            "level": "INFO",
            "message": "user signed in",
            "user_id": m.uuid(),
            "session_count": m.rng.randint(1, 9),
            "mfa": True,
            "token_type": "Bearer",
            "expires_in": 3600,
        }
    ),  # fmt: skip
    lambda m: json.dumps(
        {
            "level": "info",
            "msg": "secret rotated",
            "secretArn": _arn(m, "secretsmanager", f"secret:prod/orders/db-{m.mixed(ALNUM, 6)}"),
            "versionId": m.uuid(),
            "step": "finishSecret",
        }
    ),
    lambda m: json.dumps(
        {
            "level": "debug",
            "msg": "cache stats",
            "hits": m.rng.randint(1, 9999),
            "misses": m.rng.randint(1, 999),
            "evictions": 0,
            "tokens_used": m.rng.randint(100, 9000),
            "max_tokens": 4096,
            "model": "claude-like-model",
        }
    ),
    # Web and load balancer access logs
    lambda m: (
        f'{m.ip()} - - [02/Nov/2026:09:00:{m.rng.randint(10, 59)} +0000] "GET /api/orders/{m.rng.randint(1, 99999)}'
        f'?page={m.rng.randint(1, 9)} HTTP/1.1" {_s(m, "502", "504", "500")} {m.rng.randint(100, 999)} "-" '
        '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36" '
        f"rt={_num(m, 0, 9)}"
    ),
    lambda m: (
        f"h2 {m.when()} app/api-prod/{m.hex(16)} {m.ip()}:{m.rng.randint(1024, 65535)} {m.ip()}:80 0.000 "
        f'{_num(m, 0, 3)} -1 502 - 734 293 "GET https://api.example.com:443/orders HTTP/2.0" "curl/8.4.0" '
        f"ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 {_arn(m, 'elasticloadbalancing', f'targetgroup/orders/{m.hex(16)}')} "
        f'"Root={_xray(m)}" "api.example.com" "{_arn(m, "acm", f"certificate/{m.uuid()}")}" 0 {m.when()} '
        f'"forward" "-" "-" "{m.ip()}:80" "502" "-" "-" TID_{m.hex(32)}'
    ),
    lambda m: (
        f"{m.hex(64)} acme-uploads [02/Nov/2026:09:00:01 +0000] {m.ip()} "
        f"{_arn(m, 'iam', 'user/uploader').replace(':eu-west-1:', '::')} {m.chars(UPPER + DIGITS, 16)} REST.PUT.OBJECT "
        f'invoices/2026/11/{m.uuid()}.pdf "PUT /invoices/2026/11/x.pdf HTTP/1.1" 503 SlowDown - 0 - 21 - "-" '
        f'"aws-sdk-java/2.25.1" - {m.mixed(B64, 76)}= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader '
        "acme-uploads.s3.eu-west-1.amazonaws.com TLSv1.3 - -"
    ),
    lambda m: (
        f"{m.when()} {m.rng.choice(['CDG50-C1', 'FRA56-P3', 'LHR61-C2'])} 1520 {m.ip()} GET "
        f"d111111abcdef8.cloudfront.net /assets/app.{m.hex(8)}.js 504 - Mozilla/5.0 - - Error "
        f"{m.mixed(B64URL, 56)}== cdn.example.com https 421 0.002 - TLSv1.3 TLS_AES_128_GCM_SHA256 Error HTTP/2.0"
    ),
    lambda m: (
        f'{m.ip()} - bob [02/Nov/2026:09:00:01 +0000] "POST /graphql HTTP/1.1" 500 {m.rng.randint(50, 900)} '
        '"https://app.example.com/checkout?step=payment&session_state=ok" "okhttp/4.12.0" '
        f"upstream_response_time={_num(m, 0, 5)}"
    ),
    # Java and Python stack traces
    lambda m: (
        'java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null\n'
        "\tat com.example.orders.OrderValidator.validate(OrderValidator.java:57)\n"
        "\tat com.example.orders.OrderService.place(OrderService.java:112)\n"
        "\tat jdk.internal.reflect.GeneratedMethodAccessor187.invoke(Unknown Source)"
    ),
    lambda m: f"Caused by: java.sql.SQLException: Access denied for user 'app'@'{m.ip()}' (using password: YES)",
    lambda m: (
        "org.springframework.web.client.HttpServerErrorException$GatewayTimeout: 504 Gateway Time-out\n"
        "\tat org.springframework.web.client.DefaultResponseErrorHandler.handleError("
        f"DefaultResponseErrorHandler.java:{m.rng.randint(100, 200)})"
    ),
    lambda m: (
        "Caused by: software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException: "
        f"Rate of requests exceeds the allowed throughput. (Service: DynamoDb, Status Code: 400, Request ID: "
        f"{m.chars(UPPER + DIGITS, 52)})"
    ),
    lambda m: (
        "Traceback (most recent call last):\n"
        f'  File "/var/task/app/handler.py", line {m.rng.randint(10, 300)}, in lambda_handler\n'
        "    table.put_item(Item=item)\n"
        '  File "/var/runtime/botocore/client.py", line 1023, in _make_api_call\n'
        "    raise error_class(parsed_response, operation_name)\n"
        "botocore.errorfactory.ConditionalCheckFailedException: An error occurred (ConditionalCheckFailedException) "
        "when calling the PutItem operation: The conditional request failed"
    ),
    lambda m: (
        "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the PutMetricData "
        f"operation (reached max retries: {m.rng.randint(2, 9)}): Rate exceeded"
    ),
    lambda m: (
        f"psycopg.errors.DeadlockDetected: deadlock detected\nDETAIL:  Process {m.rng.randint(1000, 99999)} waits "
        f"for ShareLock on transaction {m.rng.randint(10**6, 10**7)}; blocked by process {m.rng.randint(1000, 99999)}."
    ),
    lambda m: (
        f'  File "/var/lang/lib/python3.13/site-packages/urllib3/connectionpool.py", line {m.rng.randint(400, 900)}, '
        "in urlopen"
    ),
    lambda m: (
        f"Error: connect ECONNREFUSED {m.ip()}:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] "
        "(node:net:1607:16)"
    ),
    lambda m: (
        f"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: "
        f"segmentation violation code=0x1 addr=0x{m.hex(2)} pc=0x{m.hex(6)}]"
    ),
    # Databases
    lambda m: (
        f"2026-11-02 09:00:01.{m.rng.randint(100, 999)} UTC [{m.rng.randint(1000, 99999)}] LOG:  duration: "  # noqa: S608 - a log line showing a query
        f"{_num(m, 1000, 9000)} ms  statement: SELECT o.id, o.total FROM orders o WHERE o.customer_id = $1 "
        "AND o.created_at > now() - interval '7 days' ORDER BY o.created_at DESC LIMIT 50"
    ),
    lambda m: (
        f"# Query_time: {_num(m, 1, 30)}  Lock_time: 0.000{m.rng.randint(100, 999)} Rows_sent: "
        f"{m.rng.randint(1, 50)}  Rows_examined: {m.rng.randint(10**5, 10**7)}"
    ),
    lambda m: f"# User@Host: app[app] @  [{m.ip()}]  Id: {m.rng.randint(100, 99999)}",
    lambda m: (
        f"2026-11-02 09:00:01 UTC::@:[{m.rng.randint(100, 9999)}]:LOG:  checkpoint complete: wrote "
        f"{m.rng.randint(100, 9999)} buffers ({_num(m, 0, 9)}%); 0 WAL file(s) added, 0 removed, 1 recycled"
    ),
    lambda m: (
        f"2026-11-02 09:00:01 UTC:{m.ip()}(51234):app@orders:[{m.rng.randint(100, 9999)}]:FATAL:  password "
        'authentication failed for user "app"'
    ),
    lambda m: (
        f'{{"t":{{"$date":"{m.when()}"}},"s":"W","c":"COMMAND","id":51803,"ctx":"conn{m.rng.randint(1, 999)}",'
        f'"msg":"Slow query","attr":{{"ns":"orders.carts","durationMillis":{m.rng.randint(100, 9000)},'
        f'"planSummary":"COLLSCAN","queryHash":"{m.hex(8).upper()}"}}}}'
    ),
    lambda m: f"[WARN] slowlog: {m.rng.randint(10000, 99999)} us: ZRANGEBYSCORE leaderboard:{m.uuid()} -inf +inf",
    # Containers, orchestration and the platform
    lambda m: (
        f'time="{m.when()}" level=error msg="container exited" container=orders-api '
        f"task={_arn(m, 'ecs', f'task/prod-cluster/{m.hex(32)}')} exitCode=137 reason=OutOfMemoryError"
    ),
    lambda m: (
        f"{m.when()} orders-api-{m.chars(HEX, 10)}-{m.chars(LOWER + DIGITS, 5)} kubelet Back-off restarting failed "
        "container orders in pod default/orders-api"
    ),
    lambda m: (
        f"I1102 09:00:01.{m.rng.randint(100000, 999999)}       1 reflector.go:{m.rng.randint(100, 600)}] "
        '"Watch close" reflector="k8s.io/client-go/informers/factory.go:159" type="*v1.Pod" '
        f"totalItems={m.rng.randint(1, 99)}"
    ),
    lambda m: (
        f"{m.when()} WARN [main] o.a.k.c.NetworkClient - [Producer clientId=producer-{m.rng.randint(1, 9)}] "
        f"Connection to node {m.rng.randint(1, 3)} "
        f"(b-{m.rng.randint(1, 3)}.orders.{m.chars(LOWER + DIGITS, 6)}.c2.kafka."
        "eu-west-1.amazonaws.com/10.0.1.12:9094) could not be established. Broker may not be available."
    ),
    lambda m: f"2026/11/02 09:00:01 http: TLS handshake error from {m.ip()}:{m.rng.randint(1024, 65535)}: EOF",
    lambda m: (
        f"Step Functions {_arn(m, 'states', 'stateMachine:order-saga')} failed at state ChargeCard (trace {_xray(m)})"
    ),
    lambda m: (
        f"ERROR alarm {_s(m, 'orders-5xx-high', 'api-latency-p99-high')} "
        f"{_arn(m, 'cloudwatch', 'alarm:orders-5xx-high')} in ALARM since {m.when()}"
    ),
    lambda m: f"pulling image {m.chars(DIGITS, 12)}.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:{m.hex(64)}",
    lambda m: f"deploy {m.hex(40)} of orders-api to prod by github-actions (run {m.rng.randint(10**9, 10**10)})",
    lambda m: (
        f'ETag mismatch for s3://acme-uploads/invoices/{m.uuid()}.pdf: expected "{m.hex(32)}", got '
        f'"{m.hex(32)}-{m.rng.randint(2, 9)}"'
    ),
    lambda m: f"KMS Decrypt failed for key {_arn(m, 'kms', f'key/{m.uuid()}')}: AccessDeniedException",
    lambda m: (
        f"CloudFormation stack orders-prod UPDATE_ROLLBACK_IN_PROGRESS: {_cfn_name(m, 'orders-prod-ApiFunction')} "
        'Resource handler returned message: "Rate exceeded"'
    ),
    lambda m: f"SQS message {m.uuid()} moved to dead-letter queue after {m.rng.randint(3, 9)} receives",
    lambda m: f"EventBridge rule orders-to-jira delivered event {m.uuid()} to {_arn(m, 'lambda', 'function:to-jira')}",
    lambda m: (
        f"RDS event: DB instance orders-db-{m.rng.randint(1, 3)} restarted (Event ID RDS-EVENT-0006, "
        f"source id db-{m.chars(UPPER + DIGITS, 26)})"
    ),
    # Words that sound secret in sentences that are not
    lambda m: f"user {m.uuid()} logged in; password reset email sent to b***@example.com",
    lambda m: f"{m.rng.randint(10, 99)} tests passed, 0 failed, {m.rng.randint(1, 5)} skipped in {_num(m, 1, 90)}s",
    lambda m: f"token bucket refilled: {m.rng.randint(10, 99)} tokens available, rate 100/s",
    lambda m: "Authentication failed for user bob: invalid credentials (attempt 3 of 5)",
    lambda m: f"session expired for user {m.uuid()} after {m.rng.randint(10, 90)} minutes of inactivity",
    lambda m: f"bypassing cache for /api/orders/{m.rng.randint(1, 99999)}: Cache-Control no-store",
    lambda m: f"OAuth2 authorization code flow started for client web-app (state {m.hex(16)})",
    lambda m: f"Retrieved secret prod/orders/db from Secrets Manager (version {m.uuid()}) in {m.rng.randint(5, 90)} ms",
)
