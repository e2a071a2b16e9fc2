"""What can go wrong getting a token."""

from typing import Optional, Tuple, cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


class TokenError(Exception):
    """A token request that failed, with tokend's OAuth error code when it sent one."""

    def __init__(self, code: grpc.StatusCode, message: str, oauth_error: Optional[str] = None,
                 retry_after: Optional[float] = None, dpop_nonce: Optional[str] = None):
        super().__init__(f"{oauth_error or code.name}: {message}")
        self.code = code
        self.message = message
        #: ``invalid_client``, ``invalid_scope``, … from ``google.rpc.ErrorInfo.reason``.
        self.oauth_error = oauth_error
        #: Seconds the server asked to wait before trying again (``google.rpc.RetryInfo``).
        self.retry_after = retry_after
        #: The DPoP nonce tokend asked for with ``use_dpop_nonce`` (RFC 9449 §8).
        self.dpop_nonce = dpop_nonce

    @property
    def retryable(self) -> bool:
        """Worth asking again: an unavailable server, or a rate limit that says when."""
        limited = self.code == grpc.StatusCode.RESOURCE_EXHAUSTED and self.retry_after is not None
        return self.code == grpc.StatusCode.UNAVAILABLE or limited

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "TokenError":
        call = cast(grpc.Call, error)  # the errors of calls are their calls too
        reason, retry_after = _details(call)
        nonce = next((str(value) for key, value in call.trailing_metadata() or () if key == "dpop-nonce"), None)
        return cls(call.code(), call.details() or "", reason, retry_after, nonce)


def _details(call: grpc.Call) -> Tuple[Optional[str], Optional[float]]:
    """The ``ErrorInfo`` reason and the ``RetryInfo`` delay the status carries, if any."""
    reason, retry_after = None, None
    status = rpc_status.from_call(call)
    for detail in status.details if status else ():
        info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            reason = str(info.reason)
        elif detail.Unpack(retry):
            retry_after = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return reason, retry_after
