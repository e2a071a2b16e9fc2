"""Lists tokend's clients with an admin token that is fetched once and cached.

    TOKEND=127.0.0.1:50051 TOKEND_CLIENT_ID=admin TOKEND_CLIENT_SECRET=... python examples/list_clients.py

The client needs the scope tokend.admin.
"""

import os

import grpc

from tokend.v1 import client_admin_pb2, client_admin_pb2_grpc
from tokend_client import TokenSource, with_bearer


def main() -> None:
    channel = grpc.insecure_channel(os.environ.get("TOKEND", "127.0.0.1:50051"))
    source = TokenSource(channel, os.environ["TOKEND_CLIENT_ID"], os.environ["TOKEND_CLIENT_SECRET"])
    admin = client_admin_pb2_grpc.ClientAdminStub(with_bearer(channel, source, "tokend.admin"))
    page_token = ""
    while True:
        page = admin.ListClients(client_admin_pb2.ListClientsRequest(page_token=page_token))
        for client in page.clients:
            print(f"{client.client_id}\t{' '.join(client.allowed_scopes)}")
        if not page.next_page_token:
            break
        page_token = page.next_page_token


if __name__ == "__main__":
    main()
