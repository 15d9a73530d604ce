"""Figures other people measured: the paper's Table 1 (Zheng et al.), as printed.

They are shown beside our measurements with ``declare bench quality
--published``, always marked as published: they come from the authors' own
runs, SSIM implementation and (for Real20) possibly other image pairs, so a
difference of a few thousandths says little. The SIRR papers score with
ERRNet's evaluation code (scikit-image's default SSIM on 8-bit images, a 7x7
uniform window); ``--ssim paper`` computes that one.
"""

from __future__ import annotations

import re

from declare.metrics import METRICS

SOURCE = "Zheng et al., Table 1"

# benchmark -> method -> (SSIM, LMSE); "(F)": retrained on the paper's data.
COLUMNS = ("real20", "nature", "sir2", "sir2-objects", "sir2-postcard", "sir2-wild", "seq1k")
_TABLE = """
CEILNet              0.7185 0.0294 0.7048 0.0218 0.8520 0.0080 0.8764 0.0054 0.8388 0.0088 0.8113 0.0148 0.8130 0.0179
Zhang et al. 2018    0.7988 0.0204 0.7401 0.0159 0.8454 0.0072 0.8847 0.0054 0.8082 0.0073 0.8369 0.0132 0.8522 0.0123
BDN                  0.7464 0.0297 0.7449 0.0190 0.8616 0.0062 0.8637 0.0054 0.8686 0.0054 0.8290 0.0120 0.8176 0.0186
RmNet                0.7194 0.0306 0.7433 0.0169 0.8328 0.0097 0.8246 0.0108 0.8375 0.0081 0.8459 0.0119 0.8273 0.0154
ERRNet               0.8036 0.0210 0.7590 0.0150 0.8807 0.0062 0.8872 0.0040 0.8786 0.0056 0.8644 0.0169 0.8711 0.0104
CoRRN                0.7140 0.0299 0.7400 0.0154 0.8392 0.0055 0.8678 0.0045 0.8119 0.0054 0.8343 0.0096 0.7809 0.0158
Yang et al. 2019     0.7084 0.0287 0.7415 0.0162 0.8570 0.0065 0.8502 0.0065 0.8651 0.0059 0.8526 0.0087 0.7885 0.0189
IBCLN                0.7816 0.0224 0.7845 0.0126 0.8948 0.0050 0.9020 0.0038 0.8880 0.0052 0.8934 0.0085 0.8738 0.0105
CEILNet (F)          0.7284 0.0267 0.7506 0.0151 0.8689 0.0057 0.8737 0.0044 0.8737 0.0053 0.8339 0.0118 0.8525 0.0117
Zhang et al. (F)     0.7998 0.0202 0.8026 0.0118 0.8952 0.0044 0.9009 0.0036 0.8884 0.0043 0.8994 0.0071 0.8873 0.0083
RmNet (F)            0.7559 0.0245 0.7649 0.0136 0.8862 0.0049 0.8845 0.0041 0.8868 0.0053 0.8904 0.0065 0.8682 0.0104
ERRNet (F)           0.8120 0.0184 0.7950 0.0121 0.8940 0.0046 0.9028 0.0032 0.8810 0.0057 0.9090 0.0057 0.8934 0.0074
IBCLN (F)            0.7759 0.0231 0.7746 0.0131 0.8946 0.0043 0.9026 0.0032 0.8800 0.0048 0.8892 0.0046 0.8672 0.0106
DECLARE (paper)      0.8196 0.0187 0.8213 0.0104 0.9009 0.0041 0.9089 0.0031 0.8908 0.0045 0.9084 0.0064 0.9015 0.0072
"""


def _parse(text: str) -> dict[str, dict[str, tuple[float, float]]]:
    table: dict[str, dict[str, tuple[float, float]]] = {c: {} for c in COLUMNS}
    for line in text.strip().splitlines():
        name, values = line[:21].strip(), [float(v) for v in line[21:].split()]
        for i, column in enumerate(COLUMNS):
            table[column][name] = (values[2 * i], values[2 * i + 1])
    return table


TABLE_1 = _parse(_TABLE)

# How the benchmarks' folders are named where they are distributed.
_NAMES = [
    (r"^real ?20$|^real20test|^zhang", "real20"),
    (r"^nature", "nature"),
    (r"postcard", "sir2-postcard"),
    (r"solid ?object|^objects?$", "sir2-objects"),
    (r"wild ?scene|^wild$", "sir2-wild"),
    (r"^sir\^?2|^sir2", "sir2"),
    (r"^seq ?1k", "seq1k"),
]


def benchmark_of(name: str) -> str | None:
    """Which Table 1 benchmark a dataset or subset folder name is, if any."""
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    for pattern, benchmark in _NAMES:
        if re.search(pattern, key):
            return benchmark
    return None


def published_rows(dataset_label: str, name: str) -> list[dict]:
    """Table 1's rows for the benchmark ``name`` is, labelled as ``dataset_label``."""
    benchmark = benchmark_of(name)
    if benchmark is None:
        return []
    printed = [m.name for m in METRICS.values() if m.published]  # Table 1's columns, in order
    return [{"dataset": dataset_label, "method": f"{method} [published]", "images": None,
             **{m: None for m in METRICS}, **dict(zip(printed, values)), "seconds": None, "source": SOURCE}
            for method, values in TABLE_1[benchmark].items()]


def with_published(summary: list[dict], datasets: list[tuple[str, list]]) -> list[dict]:
    """The summary with Table 1's rows after each recognised dataset or subset."""
    subsets = {name: list(dict.fromkeys(p.subset for p in pairs)) for name, pairs in datasets}
    out, done = [], set()
    for i, row in enumerate(summary):
        out.append(row)
        label = row["dataset"]
        last = i + 1 == len(summary) or summary[i + 1]["dataset"] != label
        if not last or label in done:
            continue
        done.add(label)
        dataset, _, subset = label.partition("/")
        names = [subset] if subset else [dataset] + (subsets[dataset] if len(subsets[dataset]) == 1 else [])
        for name in names:
            extra = published_rows(label, name)
            if extra:
                out += extra
                break
    return out
