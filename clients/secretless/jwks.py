#!/usr/bin/env python3
"""Prints the JWK Set of a PEM private key's public half, named KID:
    jwks.py KEY.pem KID > keys.json
Needs PyJWT with cryptography (pip install 'PyJWT[crypto]')."""

import json
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

key_file, kid = sys.argv[1:3]
public = load_pem_private_key(open(key_file, "rb").read(), None).public_key()
algorithm = jwt.algorithms.ECAlgorithm if isinstance(public, ec.EllipticCurvePublicKey) else jwt.algorithms.RSAAlgorithm
jwk = json.loads(algorithm.to_jwk(public))
jwk.update(kid=kid, use="sig")
print(json.dumps({"keys": [jwk]}))
