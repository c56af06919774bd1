"""Load-test the served detector: the `loadtest` stage of examples/rtmdet.mlx
(standard library only). Sends REQUESTS images from CONCURRENCY threads to
URL/predict and writes latency percentiles, throughput and the failures as
JSON. The image is a generated 320x320 grey PNG unless --image names one."""

import argparse
import json
import statistics
import struct
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def grey_png(side: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * side for _ in range(side))  # filter byte 0, then grey pixels
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def call(url: str, body: bytes, content_type: str) -> tuple[float, str | None]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        return time.perf_counter() - start, None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return time.perf_counter() - start, str(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the detector's base URL")
    parser.add_argument("--path", default="/predict")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--image", type=Path, help="an image to send (default: a generated PNG)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON report")
    args = parser.parse_args()

    body = args.image.read_bytes() if args.image else grey_png(320)
    kind = "image/jpeg" if args.image and args.image.suffix.lower() in (".jpg", ".jpeg") else "image/png"
    url = args.url.rstrip("/") + args.path
    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(lambda _: call(url, body, kind), range(args.requests)))
    elapsed = time.perf_counter() - start

    latencies = sorted(seconds for seconds, error in results if error is None)
    errors = [error for _, error in results if error is not None]
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    report = {
        "url": url, "requests": args.requests, "concurrency": args.concurrency,
        "succeeded": len(latencies), "failed": len(errors), "first_errors": errors[:5],
        "throughput_per_s": round(len(latencies) / elapsed, 2) if elapsed else None,
        "latency_ms": {name: round(cuts[q - 1] * 1000, 1) for name, q in (("p50", 50), ("p90", 90), ("p99", 99))}
        if cuts else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))
    if errors:
        raise SystemExit(f"loadtest.py: {len(errors)} of {args.requests} requests failed")


if __name__ == "__main__":
    main()
