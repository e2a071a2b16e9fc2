#!/usr/bin/env python3
"""Prints a JWT with CLAIMS (JSON) signed by a PEM private key, header kid KID;
iat, exp (a minute on) and a random jti are added unless given:
    sign.py KEY.pem KID '{"iss": "orders-signer", "sub": "orders-signer", "aud": "http://127.0.0.1:50051"}'
ES256 for EC keys, RS256 for RSA keys. Needs PyJWT with cryptography."""

import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

key_file, kid, claims = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
key = load_pem_private_key(open(key_file, "rb").read(), None)
now = int(time.time())
claims = {"iat": now, "exp": now + 60, "jti": os.urandom(16).hex(), **claims}
algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
print(jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid}))
