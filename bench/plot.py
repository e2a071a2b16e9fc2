#!/usr/bin/env python3
"""Draws docs/bench/throughput.svg from the JSON lines tokend-bench wrote:
throughput and p99 latency against concurrency, tokend beside oidc-provider.
Standard library only, so it runs wherever the benchmark does.

usage: bench/plot.py docs/bench/tokend.jsonl docs/bench/oidc-provider.jsonl > docs/bench/throughput.svg
"""
import json
import sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
WIDTH, HEIGHT, PAD = 420, 300, 55


def series(paths):
    lines = {}
    for path in paths:
        label = "oidc-provider" if "oidc" in path else "tokend"
        for row in map(json.loads, open(path)):
            if row.get("flood"):
                continue
            key = f"{label} {row['scenario']}"
            lines.setdefault(key, []).append((row["concurrency"], row["requests_per_second"], row["p99_ms"]))
    return {k: sorted(v) for k, v in lines.items()}


def panel(x0, title, lines, value, unit):
    xs = sorted({c for pts in lines.values() for c, *_ in pts})
    top = max(value(p) for pts in lines.values() for p in pts) * 1.1 or 1
    def px(c):
        return x0 + PAD + xs.index(c) * (WIDTH - 2 * PAD) / max(len(xs) - 1, 1)
    def py(v):
        return HEIGHT - PAD + 10 - v / top * (HEIGHT - 2 * PAD)
    out = [f'<text x="{x0 + WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<line x1="{x0 + PAD}" y1="{HEIGHT - PAD + 10}" x2="{x0 + WIDTH - PAD}" y2="{HEIGHT - PAD + 10}" stroke="black"/>',
           f'<line x1="{x0 + PAD}" y1="{PAD - 20}" x2="{x0 + PAD}" y2="{HEIGHT - PAD + 10}" stroke="black"/>',
           f'<text x="{x0 + WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle">concurrency</text>',
           f'<text x="{x0 + 12}" y="{HEIGHT / 2}" transform="rotate(-90 {x0 + 12} {HEIGHT / 2})" text-anchor="middle">{unit}</text>']
    for c in xs:
        out.append(f'<text x="{px(c)}" y="{HEIGHT - PAD + 25}" text-anchor="middle" font-size="11">{c}</text>')
    for i in range(5):
        v = top * i / 4
        out.append(f'<text x="{x0 + PAD - 4}" y="{py(v) + 4}" text-anchor="end" font-size="10">{v:.0f}</text>')
    for i, (name, pts) in enumerate(sorted(lines.items())):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(c)},{py(value((c, r, p)))}" for c, r, p in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for c, r, p in pts:
            out.append(f'<circle cx="{px(c)}" cy="{py(value((c, r, p)))}" r="3" fill="{colour}"/>')
    return out


def main(paths):
    lines = series(paths)
    body = panel(0, "throughput", lines, lambda p: p[1], "requests/s")
    body += panel(WIDTH, "p99 latency", lines, lambda p: p[2], "ms")
    for i, name in enumerate(sorted(lines)):
        y = HEIGHT + 18 + i * 16
        body.append(f'<rect x="{PAD}" y="{y - 10}" width="12" height="12" fill="{COLOURS[i % len(COLOURS)]}"/>')
        body.append(f'<text x="{PAD + 18}" y="{y}" font-size="12">{name}</text>')
    height = HEIGHT + 24 + len(lines) * 16
    print(f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * WIDTH}" height="{height}" font-family="sans-serif" font-size="12">')
    print(f'<rect width="100%" height="100%" fill="white"/>')
    print("\n".join(body))
    print("</svg>")


if __name__ == "__main__":
    main(sys.argv[1:])
