// tokend-client for Node: get tokens (TokenSource), attach them, and verify
// them locally (Verifier). The Express, gRPC and Connect integrations are
// under `tokend-client/express`, `tokend-client/grpc` and `tokend-client/connect`.

export { Claims } from "./claims.js";
export { InvalidToken, type RefusalCode } from "./invalidToken.js";
export { verifyCall, type Call, type ScopeRules } from "./presented.js";
export { Verifier, type Presentation, type VerifierOptions } from "./verifier.js";
export { type ClientCredentials, type PrivateKeyCredential } from "./credentials.js";
export { DpopKey } from "./dpopKey.js";
export { type TlsOptions } from "./http.js";
export { TokenError } from "./tokenError.js";
export { TokenSource, type SourceOptions, type Token, type Transport, type Issued } from "./tokenSource.js";
export { GrpcTransport, type GrpcTransportOptions } from "./grpcTransport.js";
export { HttpTransport, type HttpTransportOptions } from "./httpTransport.js";
export {
  currentTxnToken,
  runWithTxnToken,
  TXN_TOKEN_HEADER,
  TxnEdge,
  txnHeaders,
  TxnVerifier,
  type TxnClaims,
  type TxnToken,
} from "./txn.js";
