#!/usr/bin/env python3
"""Prints the RFC 7638 SHA-256 thumbprint of a PEM private key's public half,
the cnf.jkt of tokens bound to it:  thumbprint.py KEY.pem"""

import base64
import hashlib
import json
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

key = load_pem_private_key(open(sys.argv[1], "rb").read(), None)
algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
jwk = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(key.public_key()))
required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
print(base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode())
