"""Generates the gRPC stubs (package ``tokend.v1``) from the repository's
``proto/`` directory while the package is built, with grpcio-tools."""

import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PROTO_DIR = Path(os.environ.get("TOKEND_PROTO_DIR", HERE / ".." / ".." / "proto")).resolve()


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        generate_stubs(Path(self.build_lib))


def generate_stubs(out: Path) -> None:
    from importlib.resources import files

    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.glob("tokend/v1/*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_DIR}; set TOKEND_PROTO_DIR")
    well_known = files("grpc_tools") / "_proto"
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{well_known}", f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(args + protos) != 0:
        raise SystemExit("protoc failed")
    for package in (out / "tokend", out / "tokend" / "v1"):
        (package / "__init__.py").touch()
    # The stubs come with type information (the .pyi files above).
    (out / "tokend" / "py.typed").touch()


setup(cmdclass={"build_py": BuildWithStubs})
