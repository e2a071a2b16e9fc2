"""with_bearer: tokens on every call, against tokend's own ClientAdmin service."""

import json

import grpc
import pytest

from tokend.v1 import client_admin_pb2, client_admin_pb2_grpc
from tokend_client import TokenError, TokenSource, with_bearer


def test_calls_through_a_bearer_channel_are_authorised(tokend):
    source = TokenSource(tokend.channel, "admin", tokend.admin_secret)
    admin = client_admin_pb2_grpc.ClientAdminStub(with_bearer(tokend.channel, source, "tokend.admin"))
    listed = admin.ListClients(client_admin_pb2.ListClientsRequest())
    assert {client.client_id for client in listed.clients} >= {"admin", "orders-worker"}


def test_calls_without_a_token_are_unauthenticated(tokend):
    admin = client_admin_pb2_grpc.ClientAdminStub(tokend.channel)
    with pytest.raises(grpc.RpcError) as raised:
        admin.ListClients(client_admin_pb2.ListClientsRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_without_the_scope_is_permission_denied(tokend):
    created = tokend.cli("client", "create", "--id", "reader", "--scopes", "orders.read", "--json")
    source = TokenSource(tokend.channel, "reader", json.loads(created)["client_secret"])
    admin = client_admin_pb2_grpc.ClientAdminStub(with_bearer(tokend.channel, source))
    with pytest.raises(grpc.RpcError) as raised:
        admin.ListClients(client_admin_pb2.ListClientsRequest())
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_token_for_another_audience_is_refused_by_tokends_own_apis(tokend):
    # orders-worker's tokens are for "orders": a service holding one cannot replay it at tokend.
    source = TokenSource(tokend.channel, "orders-worker", tokend.worker_secret)
    admin = client_admin_pb2_grpc.ClientAdminStub(with_bearer(tokend.channel, source))
    with pytest.raises(grpc.RpcError) as raised:
        admin.ListClients(client_admin_pb2.ListClientsRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_call_that_cannot_get_a_token_is_not_sent(tokend):
    source = TokenSource(tokend.channel, "admin", "wrong-secret")
    admin = client_admin_pb2_grpc.ClientAdminStub(with_bearer(tokend.channel, source, "tokend.admin"))
    with pytest.raises(TokenError) as raised:
        admin.ListClients(client_admin_pb2.ListClientsRequest())
    assert raised.value.oauth_error == "invalid_client"
