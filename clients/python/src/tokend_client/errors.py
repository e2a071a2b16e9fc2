"""What can go wrong getting a token."""

from typing import Optional, cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


class TokenError(Exception):
    """A token request that failed, with tokend's OAuth error code when it sent one."""

    def __init__(self, code: grpc.StatusCode, message: str, oauth_error: Optional[str] = None):
        super().__init__(f"{oauth_error or code.name}: {message}")
        self.code = code
        self.message = message
        #: ``invalid_client``, ``invalid_scope``, … from ``google.rpc.ErrorInfo.reason``.
        self.oauth_error = oauth_error

    @property
    def retryable(self) -> bool:
        """Only an unavailable server is worth asking again."""
        return self.code == grpc.StatusCode.UNAVAILABLE

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "TokenError":
        call = cast(grpc.Call, error)  # the errors of calls are their calls too
        return cls(call.code(), call.details() or "", _error_info_reason(call))


def _error_info_reason(call: grpc.Call) -> Optional[str]:
    status = rpc_status.from_call(call)
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return None
