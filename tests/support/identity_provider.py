"""An OpenID Connect provider's public face, served over real HTTP for tests: a
discovery document and a JWKS, with keys made by ``cryptography``, rotatable, and
tokens signed with them as a provider would."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class Key:
    def __init__(self, alg: str = "RS256"):
        self.alg, self.kid = alg, uuid.uuid4().hex[:12]
        self.private = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )

    def jwk(self) -> dict:
        codec = RSAAlgorithm if self.alg == "RS256" else ECAlgorithm
        jwk = json.loads(codec.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


class IdentityProvider:
    """``with IdentityProvider() as idp``: serving on 127.0.0.1 at ``idp.issuer``."""

    def __init__(self, *algs: str):
        self.keys = [Key(alg) for alg in (algs or ("RS256",))]
        self.jwks_fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.jwks_url}
                elif self.path == "/jwks":
                    provider.jwks_fetches += 1
                    body = {"keys": [key.jwk() for key in provider.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.jwks_url = self.issuer + "/jwks"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def rotate(self, alg: str = "RS256") -> Key:
        """A new key published, the old ones withdrawn."""
        self.keys = [Key(alg)]
        return self.keys[0]

    def token(
        self, key: Key | None = None, audience: str = "rapport", ttl: int = 300, **claims
    ) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": audience,
            "sub": "alice",
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            key.private,
            algorithm=key.alg,
            headers={"kid": key.kid},
        )
