"""How much int8 can speed up this machine's matrix products: the ceiling for the scorer.

python bench/int8_ceiling.py

Almost all of a long text's scoring time is the encoder's matrix products
(``bench/score_throughput.py`` profiles put ONNX Runtime's run at over 90%). This
times one such product at the English encoder's shapes (64 texts x 96 tokens
against its 384x384, 384x1536 and 1536x384 weights) in fp32 and in the dynamic
int8 the scorer uses (same quantizer, per-channel scales), in one ONNX Runtime
process, and prints the ratio. On CPUs without VNNI (AVX2 only) int8 multiplies
are not much cheaper than fp32 ones, so this ratio is the most int8 can add to a
compute-bound long text. CPUs with VNNI or AMX multiply int8 in fewer
instructions; we had none to measure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPES = ((384, 384), (384, 1536), (1536, 384))  # attention projections, feed-forward in and out
ROWS = 64 * 96


def single_matmul_model(path: Path, k: int, n: int, rng: np.random.Generator) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array((rng.standard_normal((k, n)) * 0.05).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "matmul",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["rows", k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["rows", n])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def seconds_per_run(path: Path, x: np.ndarray, threads: int, repeats: int) -> float:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, {"X": x})
    best = float("inf")
    for _ in range(repeats):  # best of: the machine's noise only ever adds time
        start = time.perf_counter()
        session.run(None, {"X": x})
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    from sentiment.onnx_backend import quantize_int8

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    total_fp32 = total_int8 = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for k, n in SHAPES:
            fp32, int8 = Path(scratch) / f"{k}x{n}.onnx", Path(scratch) / f"{k}x{n}.int8.onnx"
            single_matmul_model(fp32, k, n, rng)
            quantize_int8(fp32, int8)
            x = rng.standard_normal((ROWS, k)).astype(np.float32)
            t32 = seconds_per_run(fp32, x, args.threads, args.repeats)
            t8 = seconds_per_run(int8, x, args.threads, args.repeats)
            flops = 2 * ROWS * k * n
            print(
                f"{k:>5} x {n:<5} fp32 {flops / t32 / 1e9:6.1f} GFLOP/s  "
                f"int8 {flops / t8 / 1e9:6.1f} GFLOP/s -> {t32 / t8:.2f}x"
            )
            weight = 4 if k == n else 1  # per layer: four 384x384 products, one of each other
            total_fp32 += weight * t32
            total_int8 += weight * t8
    print(f"one encoder layer's products: int8 is {total_fp32 / total_int8:.2f}x fp32 on this machine")


if __name__ == "__main__":
    main()
