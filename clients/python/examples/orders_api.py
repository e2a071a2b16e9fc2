"""The example resource server in Python: the "orders" API (the Rust
examples' ``orders.proto``) behind ``VerifyInterceptor``. GetOrder needs
``orders.read``, PlaceOrder ``orders.write``; tokens must be for the audience
``orders``, and each order records the client that placed it.
    TOKEND_ISSUER=http://127.0.0.1:50051 ORDERS_LISTEN=127.0.0.1:50052 python orders_api.py
"""

import os
import threading
from concurrent import futures

import grpc
from orders_stubs import orders_pb2, orders_pb2_grpc

from tokend_client import Verifier
from tokend_client.grpc_server import VerifyInterceptor, current_claims


class Orders(orders_pb2_grpc.OrdersServicer):
    def __init__(self) -> None:
        self._orders: dict = {}
        self._lock = threading.Lock()

    def PlaceOrder(self, request, context):
        with self._lock:
            order_id = f"order-{len(self._orders) + 1}"
            order = orders_pb2.Order(id=order_id, item=request.item, quantity=request.quantity,
                                     placed_by=current_claims().client_id)
            self._orders[order_id] = order
        return order

    def GetOrder(self, request, context):
        with self._lock:
            order = self._orders.get(request.id)
        if order is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no order {request.id}")
        return order


def main() -> None:
    verifier = Verifier.discover(os.environ.get("TOKEND_ISSUER", "http://127.0.0.1:50051"), "orders")
    scopes = {"/orders.v1.Orders/GetOrder": ["orders.read"], "/orders.v1.Orders/PlaceOrder": ["orders.write"]}
    server = grpc.server(futures.ThreadPoolExecutor(8), interceptors=[VerifyInterceptor(verifier, method_scopes=scopes)])
    orders_pb2_grpc.add_OrdersServicer_to_server(Orders(), server)
    port = server.add_insecure_port(os.environ.get("ORDERS_LISTEN", "127.0.0.1:50052"))
    server.start()
    print(f"orders API listening on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
