"""How the Darknet and Caffe readers scale: whole cnncalc processes on generated files at and
around the caps (kit.MAX_LAYERS, kit.MAX_SOURCE_BYTES), and on the inputs that once hung (a
long number then a letter, thousands of unknown bottoms, a cfg of repeated keys). Each should
answer, with a result or one clear error, in about a second. Not a test: run it by hand,
``python bench/readers.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from startup import cnncalc

INPUT = (
    'layer { name: "data" type: "Input" top: "data" '
    "input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n"
)
NET = "[net]\nheight=8\nwidth=8\nchannels=3\n"


def files() -> dict[str, str]:
    relus = "".join(
        f'layer {{ name: "r{i}" type: "ReLU" bottom: "data" top: "b{i}" }}\n' for i in range(2400)
    )
    unknown = "".join(
        f'layer {{ name: "x{i}" type: "ReLU" bottom: "q{i}" top: "c{i}" }}\n' for i in range(2400)
    )
    chain = "".join(
        f'layer {{ name: "r{i}" type: "ReLU" bottom: "data" top: "data" }}\n' for i in range(1999)
    )
    return {
        "digits.prototxt": "a: " + "1" * 12_000 + "x\n",
        "unknown-bottoms.prototxt": INPUT + relus + unknown,
        "2k-layers.prototxt": INPUT + chain,
        "2k-convs.cfg": NET
        + "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=leaky\n" * 2000,
        "30k-sections.cfg": NET + "[activation]\nactivation=relu\n" * 30_000,
        "repeated-keys.cfg": NET + "[convolutional]\n" + "filters=4\n" * 2_000_000,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files().items():
            path = Path(tmp) / name
            path.write_text(text)
            for command in ("trace", "convert"):
                start = time.perf_counter()
                done = subprocess.run(
                    [*cnncalc(), command, str(path)], capture_output=True, text=True, check=False
                )
                took = time.perf_counter() - start
                size = f"{len(text.encode()) / 1e6:.2f} MB"
                print(f"{name:26} {size:>9} {command:8} exit {done.returncode}  {took:.2f} s")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
