"""The example services' stubs (the "orders" API, and the "chain" of
Transaction Tokens), generated from the Rust examples' ``orders.proto`` and
``chain.proto`` with grpcio-tools when first imported (nothing generated is
checked in), so the Python and Rust halves speak one contract."""

import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from grpc_tools import protoc

PROTO_DIR = Path(__file__).resolve().parents[2] / "rust" / "examples" / "proto"

_out = tempfile.mkdtemp(prefix="orders-stubs-")
for _proto in ("orders.proto", "chain.proto"):
    if protoc.main(["protoc", f"-I{PROTO_DIR}", f"-I{files('grpc_tools') / '_proto'}", f"--python_out={_out}",
                    f"--grpc_python_out={_out}", str(PROTO_DIR / _proto)]) != 0:
        raise SystemExit(f"protoc could not compile {PROTO_DIR / _proto}")
sys.path.insert(0, _out)

import chain_pb2  # noqa: E402
import chain_pb2_grpc  # noqa: E402
import orders_pb2  # noqa: E402
import orders_pb2_grpc  # noqa: E402

__all__ = ["chain_pb2", "chain_pb2_grpc", "orders_pb2", "orders_pb2_grpc"]
