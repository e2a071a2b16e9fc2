#!/usr/bin/env python3
"""Where a profiled tokend spends its CPU: reads `perf script` output (with
call graphs) on stdin and prints each sample's leaf frame sorted into a few
costs (signing, the kernel, allocation, HTTP/2, the runtime, tokend's own
code ...), then the tokend functions that hold the most samples inclusively.
    perf script -i perf.data | bench/costs.py
"""
import collections
import re
import sys

# Costs by the leaf frame's object or symbol, first match wins; then by the
# crate that the leaf frame's first path names.
BY_SYMBOL = [
    ("ES256 signing and hashing (aws-lc)", r"nistz256|bignum|aws_lc|sha256_block|sha512_block|bn_"),
    ("the kernel: sockets, wake-ups, scheduling", r"\[kernel\.kallsyms\]|\[vdso\]"),
    ("allocation and copying (malloc, free, memcpy)",
     r"malloc|free|memmove|memcpy|memset|memcmp|_int_|tcache|unlink_chunk|__rdl_|libc\.so"),
]
BY_CRATE = {
    "HTTP/2 and HTTP framing (h2, hyper, http, bytes)": {"h2", "hyper", "hyper_util", "http", "http_body", "bytes", "httparse", "slab"},
    "the async runtime and service stack (tokio, tower, axum, tonic)":
        {"tokio", "tokio_util", "futures_util", "futures_core", "tower", "axum", "axum_core", "tonic", "matchit", "pin_project_lite"},
    "encoding (prost, serde_json, base64)": {"prost", "serde_json", "serde", "serde_core", "base64", "form_urlencoded"},
    "metrics and tracing (prometheus_client, tracing)": {"prometheus_client", "tracing", "tracing_core", "tracing_subscriber"},
    "tokend's own code": {"tokend", "tokend_common"},
}
OTHER = "everything else (Rust core and std: hashing, formatting, drops)"


def cost_of(leaf):
    for name, pattern in BY_SYMBOL:
        if re.search(pattern, leaf):
            return name
    crate = re.search(r"([a-z_][a-z0-9_]*)::", leaf)
    for name, crates in BY_CRATE.items():
        if crate and crate.group(1) in crates:
            return name
    return OTHER


def samples(lines):
    """Each sample's frames, leaf first, as `function (object)`."""
    frames = []
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = []
        elif line[0] in " \t":
            parts = line.strip().split(" ", 1)
            if len(parts) == 2:
                frames.append(re.sub(r"\+0x[0-9a-f]+ ", " ", parts[1]))
    if frames:
        yield frames


def main():
    all_samples = list(samples(sys.stdin))
    total = len(all_samples)
    if not total:
        sys.exit("no samples: was perf recorded with --call-graph?")
    costs = collections.Counter()
    inclusive = collections.Counter()
    for frames in all_samples:
        costs[cost_of(frames[0])] += 1
        seen = set()
        for frame in frames:
            match = re.match(r"[<&]*(?:mut )?(tokend\w*::[\w:]+)", frame)
            if match and match.group(1) not in seen:
                seen.add(match.group(1))
                inclusive[match.group(1)] += 1
    print(f"{total} samples\n\n| cost (self time, by leaf frame) | share |\n|---|---|")
    for name, count in costs.most_common():
        print(f"| {name} | {100 * count / total:.1f} % |")
    print("\n| tokend function (inclusive) | share |\n|---|---|")
    for name, count in inclusive.most_common(12):
        print(f"| `{name.rstrip(':')}` | {100 * count / total:.1f} % |")


if __name__ == "__main__":
    main()
