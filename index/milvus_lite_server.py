"""A single-process Milvus server (milvus-lite) on loopback, for tests, benchmarks and trying it out.

    python -m index.milvus_lite_server --data-dir DIR --port 19530

milvus-lite 3.2.2 reads an index's build parameters only from one JSON "params" pair, while
pymilvus 3.0.2 sends each parameter as its own pair; the engine then silently scores BM25 with its
own k1 = 1.5, b = 0.75 instead of the configured ones. A Milvus cluster reads the separate pairs, so
this launcher folds them back into the build parameters before starting the stock server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# Pairs that are not build parameters of the index itself.
_RESERVED = {"index_type", "metric_type", "params", "search_params", "index_name", "field_name"}


def _patch_index_params() -> None:
    from milvus_lite.adapter.grpc import servicer
    from milvus_lite.adapter.grpc.translators import index as translators

    original = translators.kv_pairs_to_index_params_dict

    def with_flat_params(extra_params: Iterable[Any]) -> dict[str, Any]:
        pairs = list(extra_params)
        out = original(pairs)
        for pair in pairs:
            if pair.key in _RESERVED:
                continue
            try:
                out["params"].setdefault(pair.key, json.loads(pair.value))
            except ValueError:
                out["params"].setdefault(pair.key, pair.value)
        return out

    servicer.kv_pairs_to_index_params_dict = with_flat_params  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(data_dir: Path, *, port: int | None = None, timeout_s: float = 60.0) -> Iterator[str]:
    """Start the server as a child process, yield its URI, and stop it (nothing is left running)."""
    from pymilvus import MilvusClient

    port = port or free_port()
    uri = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir.parent / f"milvus-{port}.log", "wb")  # noqa: SIM115 - closed below
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH")])
        ),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "index.milvus_lite_server", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the Milvus server exited with code {proc.returncode}; see {log.name}")
            try:
                client = MilvusClient(uri=uri, timeout=2)
                client.list_collections()
                client.close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the Milvus server did not answer at {uri} within {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.3)
        yield uri
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=19530)
    args = parser.parse_args(argv)
    _patch_index_params()
    from milvus_lite.adapter.grpc.server import run_server

    run_server(args.data_dir, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
