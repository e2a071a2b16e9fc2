#!/usr/bin/env python3
"""Prints a DPoP proof (RFC 9449 §4.2) for a request, signed by a PEM private
key with its public half in the header:
    proof.py KEY.pem METHOD URL [NONCE]
ES256 for P-256 keys, RS256 for RSA keys. Needs PyJWT with cryptography."""

import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

key_file, method, url = sys.argv[1:4]
key = load_pem_private_key(open(key_file, "rb").read(), None)
algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
public = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(key.public_key()))
claims = {"htm": method, "htu": url, "iat": int(time.time()), "jti": os.urandom(16).hex()}
if len(sys.argv) > 4:
    claims["nonce"] = sys.argv[4]
print(jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "dpop+jwt", "jwk": public}))
