"""The benchmark's model: a config.json plus K safetensors-like shards of random
bytes whose sizes add up to exactly F bytes, written with the harness's make_model.
Also the probe file used to measure B. Plain functions; files only.
"""
import json
import os

from .util import MIB, RigError, harness

MODEL_DIR = "model"   # served at /model/
PROBE_DIR = "probe"   # served at /probe/, never counted as model bytes


def model_files(size, shards):
    """{relative path: size or bytes} adding up to exactly `size` bytes."""
    config = (json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
                          "num_hidden_layers": 32}) + "\n").encode()
    rest = size - len(config)
    if rest < shards:
        raise RigError(f"--size {size} is too small for {shards} shards")
    files = {"config.json": config}
    base = rest // shards
    for k in range(shards):
        n = base + (rest - base * shards if k == 0 else 0)
        files[f"model-{k + 1:05d}-of-{shards:05d}.safetensors"] = n
    return files


def write_model(origin_root, size, shards):
    """Writes the model under origin_root/model. Returns (files {path: size}, digests)."""
    root = os.path.join(origin_root, MODEL_DIR)
    spec = model_files(size, shards)
    digests = harness.make_model(root, spec)
    sizes = {p: (len(v) if isinstance(v, (bytes, bytearray)) else v) for p, v in spec.items()}
    assert sum(sizes.values()) == size
    return sizes, digests


def write_probe(origin_root, rate_bps, seconds=1.5):
    """A file that takes ~seconds to cross one link at the nominal rate."""
    size = int(min(max(rate_bps / 8 * seconds, 8 * MIB), 256 * MIB))
    path = os.path.join(origin_root, PROBE_DIR, "probe.bin")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 8 * MIB))
            f.write(chunk)
            left -= len(chunk)
    return f"{PROBE_DIR}/probe.bin", size
