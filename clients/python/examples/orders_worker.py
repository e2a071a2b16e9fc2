"""The example worker in Python: places and reads orders at the "orders"
API (in Python or Rust) with cached tokens, then shows a read-only token
refused. The client needs scopes ``orders.read orders.write`` and audience ``orders``.
    TOKEND_URL=127.0.0.1:50051 ORDERS_URL=127.0.0.1:50052 TOKEND_CLIENT_ID=orders-worker \\
      TOKEND_CLIENT_SECRET=… python orders_worker.py
"""

import os
import sys

import grpc
from orders_stubs import orders_pb2, orders_pb2_grpc

from tokend_client import TokenSource, with_bearer


def address(name: str, default: str) -> str:
    return os.environ.get(name, default).removeprefix("http://")


def main() -> int:
    tokend = grpc.insecure_channel(address("TOKEND_URL", "127.0.0.1:50051"))
    source = TokenSource(tokend, os.environ["TOKEND_CLIENT_ID"], os.environ["TOKEND_CLIENT_SECRET"])
    channel = grpc.insecure_channel(address("ORDERS_URL", "127.0.0.1:50052"))
    # Every call on this stub carries a cached `orders.read orders.write` token.
    orders = orders_pb2_grpc.OrdersStub(with_bearer(channel, source, "orders.read orders.write", ["orders"]))
    for item, quantity in [("paper", 500), ("toner", 2), ("stapler", 1)]:
        placed = orders.PlaceOrder(orders_pb2.PlaceOrderRequest(item=item, quantity=quantity))
        print(f"placed {placed.id} ({placed.quantity} × {placed.item}) as {placed.placed_by}")
    order = orders.GetOrder(orders_pb2.GetOrderRequest(id="order-1"))
    print(f"read back {order.id}: {order.quantity} × {order.item}")
    # A read-only token may read but not place orders.
    read_only = orders_pb2_grpc.OrdersStub(with_bearer(channel, source, "orders.read", ["orders"]))
    try:
        read_only.PlaceOrder(orders_pb2.PlaceOrderRequest(item="pens", quantity=10))
    except grpc.RpcError as refused:
        if refused.code() == grpc.StatusCode.PERMISSION_DENIED:
            print(f"read-only token refused as expected: {refused.details()}")
            return 0
        raise
    print("a read-only token should have been refused", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
