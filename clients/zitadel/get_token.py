"""Gets a token the way a service built on ZITADEL's Python SDK does: from a
service-account key file, with the SDK's own JWT profile authenticator. Only
the host changes: it names tokend instead of a ZITADEL instance.

    get_token.py ISSUER KEY_FILE  ->  prints the access token
"""

import sys

import zitadel_client

issuer, key_file = sys.argv[1], sys.argv[2]
zitadel = zitadel_client.Zitadel.with_private_key(issuer, key_file)
print(zitadel.configuration.authenticator.get_auth_token())
