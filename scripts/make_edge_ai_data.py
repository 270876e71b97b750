"""Write the synthetic benchmark data of `specs/edge-ai.hada`.

An edge-AI study: image classification on four devices, choosing a model, an inference
engine and a numeric precision by name, and a thread count. Time falls with threads and
lower precision and depends on how well the engine suits the device; memory follows the
model and the precision; accuracy follows the model and drops with precision (INT8 most);
energy is time times the device's power draw. Not every device runs everything: the Pi has
no F16, the Jetson no `lne`, the NUC no `tflite`, and the phone neither `onnxruntime` nor
F32, so those names are never chosen there. Seeded: rerunning rewrites the same bytes, each
file written to a temporary name and renamed.

    python scripts/make_edge_ai_data.py        # writes specs/data/edge-ai/*.csv
"""

from __future__ import annotations

import csv
import itertools
import os
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "specs" / "data" / "edge-ai"
MODELS = {  # name: (GFLOP per image, MB of weights at F32, top-1 accuracy % at F32)
    "mobilenet": (0.6, 14.0, 71.8),
    "resnet18": (1.8, 45.0, 69.8),
    "efficientnet": (0.4, 21.0, 77.1),
}
PRECISIONS = {"F32": (1.0, 1.0, 0.0), "F16": (0.6, 0.5, 0.2), "INT8": (0.35, 0.25, 1.4)}
THREADS = (1, 2, 4)
REPEATS = 3
DEVICES = {  # name: (GFLOP/s per thread, power in W, speed-up of each engine, names it lacks)
    "pi4": (4.0, 6.0, {"lne": 1.3, "onnxruntime": 1.0, "tflite": 1.15}, {"F16"}),
    "jetson": (14.0, 10.0, {"onnxruntime": 1.4, "tflite": 1.0}, {"lne"}),
    "nuc": (30.0, 28.0, {"lne": 1.5, "onnxruntime": 1.2}, {"tflite"}),
    "phone": (9.0, 4.0, {"lne": 0.9, "tflite": 1.35}, {"onnxruntime", "F32"}),
}
HEADER = ["model", "engine", "precision", "threads", "time(ms)", "mem(MB)", "acc(%)", "energy(J)"]


def rows(device: str, rng: np.random.Generator) -> list[list]:
    flops, watts, engines, lacks = DEVICES[device]
    precisions = [p for p in PRECISIONS if p not in lacks]
    out = []
    for model, engine, precision, threads in itertools.product(
        MODELS, engines, precisions, THREADS
    ):
        gflop, weights, accuracy = MODELS[model]
        time_factor, memory_factor, accuracy_loss = PRECISIONS[precision]
        for _ in range(REPEATS):
            speed = flops * engines[engine] * threads**0.8
            ms = 1000.0 * gflop * time_factor / speed * rng.lognormal(0.0, 0.05)
            memory = 30.0 + weights * memory_factor * 1.6 + 4.0 * threads + rng.normal(0.0, 0.5)
            acc = accuracy - accuracy_loss * (1.5 if engine == "tflite" else 1.0)
            acc += rng.normal(0.0, 0.1)
            joules = watts * (0.6 + 0.1 * threads) * ms / 1000.0
            out.append(
                [
                    model,
                    engine,
                    precision,
                    threads,
                    round(ms, 3),
                    round(memory, 2),
                    round(acc, 2),
                    float(f"{joules:.6g}"),
                ]
            )
    return out


def write(path: Path, table: list[list]) -> None:
    """The CSV at a temporary name beside `path`, renamed into place once complete."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(table)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for index, device in enumerate(DEVICES):
        path = OUT / f"{device}.csv"
        write(path, rows(device, np.random.default_rng(2000 + index)))
        print(f"wrote {path.relative_to(OUT.parent.parent.parent)}")


if __name__ == "__main__":
    main()
