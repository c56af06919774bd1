"""Embed one shard of a text corpus through an OpenAI-compatible embedding
API (the `embedder` service of examples/embeddings.mlx: vLLM serving
BAAI/bge-large-en-v1.5): the `shard` stage (standard library only).

The corpus is a folder of text files, one document a line; shard k of n takes
every n-th file from the k-th in sorted order. The vectors go to a JSON Lines
file: one {"file", "line", "embedding"} object a document."""

import argparse
import json
import time
import urllib.error
import urllib.request
from pathlib import Path


def embed(api: str, model: str, texts: list[str], attempts: int = 5) -> list[list[float]]:
    body = json.dumps({"model": model, "input": texts}).encode()
    request = urllib.request.Request(f"{api}/embeddings", data=body, headers={"Content-Type": "application/json"})
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                data = json.load(response)["data"]
            return [item["embedding"] for item in sorted(data, key=lambda item: item["index"])]
        except (urllib.error.URLError, TimeoutError) as error:
            if attempt == attempts - 1:
                raise SystemExit(f"embed_shard.py: the embedding API at {api} failed: {error}")
            time.sleep(2 ** attempt)  # the service may be busy with the other shards
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of text files")
    parser.add_argument("--shard", type=int, required=True, help="this shard, from 0")
    parser.add_argument("--of", type=int, required=True, help="the number of shards")
    parser.add_argument("--api", required=True, help="the API's base URL, e.g. http://host:8000/v1")
    parser.add_argument("--model", default="BAAI/bge-large-en-v1.5")
    parser.add_argument("--batch", type=int, default=64, help="documents per request")
    parser.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    args = parser.parse_args()

    files = sorted(path for path in args.corpus.rglob("*") if path.is_file())[args.shard::args.of]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with args.out.open("w", encoding="utf-8") as sink:
        for path in files:
            name = str(path.relative_to(args.corpus))
            lines = [(n, line.strip()) for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines())]
            lines = [(n, line) for n, line in lines if line]
            for start in range(0, len(lines), args.batch):
                batch = lines[start:start + args.batch]
                for (n, _), vector in zip(batch, embed(args.api, args.model, [text for _, text in batch])):
                    sink.write(json.dumps({"file": name, "line": n, "embedding": vector}) + "\n")
                    count += 1
    print(f"shard {args.shard}/{args.of}: {len(files)} files, {count} documents embedded")


if __name__ == "__main__":
    main()
