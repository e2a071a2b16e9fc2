// The two details tokend puts in a gRPC error's `grpc-status-details-bin`
// (a `google.rpc.Status`): `ErrorInfo.reason` (the OAuth error code) and
// `RetryInfo.retry_delay`. Read with a few lines of protobuf decoding rather
// than a generated copy of google/rpc.

/** The fields of one message, by number: varints as numbers, the rest as bytes. */
function fields(buffer: Uint8Array): Array<[number, number | Uint8Array]> {
  const found: Array<[number, number | Uint8Array]> = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; at < buffer.length; shift += 7) {
      const byte = buffer[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        return value;
      }
    }
    throw new RangeError("truncated varint");
  };
  while (at < buffer.length) {
    const tag = varint();
    const [number, wire] = [Math.floor(tag / 8), tag % 8];
    if (wire === 0) {
      found.push([number, varint()]);
    } else if (wire === 2) {
      const length = varint();
      found.push([number, buffer.subarray(at, at + length)]);
      at += length;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
  }
  return found;
}

export interface StatusDetails {
  reason?: string;
  retryDelayMs?: number;
}

export function statusDetails(encoded: Uint8Array): StatusDetails {
  const details: StatusDetails = {};
  try {
    for (const [number, any] of fields(encoded)) {
      if (number !== 3 || typeof any === "number") {
        continue;
      }
      const parts = new Map(fields(any));
      const typeUrl = Buffer.from((parts.get(1) as Uint8Array | undefined) ?? []).toString();
      const value = (parts.get(2) as Uint8Array | undefined) ?? new Uint8Array();
      if (typeUrl.endsWith("/google.rpc.ErrorInfo")) {
        const reason = new Map(fields(value)).get(1);
        details.reason = reason instanceof Uint8Array ? Buffer.from(reason).toString() : undefined;
      } else if (typeUrl.endsWith("/google.rpc.RetryInfo")) {
        const delay = new Map(fields(value)).get(1);
        if (delay instanceof Uint8Array) {
          const duration = new Map(fields(delay));
          details.retryDelayMs = Number(duration.get(1) ?? 0) * 1000 + Number(duration.get(2) ?? 0) / 1e6;
        }
      }
    }
  } catch {
    // Details that do not decode add nothing; the status code still tells.
  }
  return details;
}
