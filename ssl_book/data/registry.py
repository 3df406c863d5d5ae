"""What the book knows about UCR datasets: sizes and the sha256 of every file we have seen.

Files listed with a checksum are verified whenever they are read, wherever they come from
(the bundled copies or a reader's own archive). ``None`` marks a file we know exists in the
UCR archive 2018 but never obtained, so it cannot be checked. Checksums and shapes come from
``ssl_book/data/ucr/PROVENANCE.md``; sizes of the files we lack from the archive's summary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UCRInfo:
    """One UCR dataset: its size and the expected sha256 of its two files."""

    name: str
    n_train: int
    n_test: int
    length: int
    n_classes: int
    sha256_train: str | None
    sha256_test: str | None
    bundled: bool = False


_ROWS = [
    # name, n_train, n_test, length, classes, sha256 TRAIN, sha256 TEST, bundled
    (
        "ArrowHead",
        36,
        175,
        251,
        3,
        "04bb9fd2827650d3ec2f384507f083fbd4c3748f919cbace3831f87e0aff06a7",
        "6bc7a83f66c0651d95fefefb2560011d6a877b6ca4c113dda1c07aeaed4737e2",
        True,
    ),
    (
        "CBF",
        30,
        900,
        128,
        3,
        "eb25c656d86a28328bca2a3c4bd0dcd54f27546b6a83f84a635cf581a55cead4",
        "9485e783f961cbc6343f7da504fd8f6f9502e9000fd379bc60c688ff5d637965",
        True,
    ),
    (
        "Coffee",
        28,
        28,
        286,
        2,
        "a722ab8acd6c18b11b8fa835fbe523fc072e6ce4434b44d7919fa95152d377bf",
        "07f25cedb9fd819a201e7de6abbdc444695b4b16ee70295010e401f18c38babd",
        True,
    ),
    (
        "ECG200",
        100,
        100,
        96,
        2,
        "bd08b37147ebf205231ad43e02c42dd5c14bc348f4ccc7614f85634c8916bf21",
        "c8ac02caf98be23c47c044fde026219301ceaf0b2f97bc107bd0cd96330b867c",
        True,
    ),
    (
        "ECG5000",
        500,
        4500,
        140,
        5,
        "df86ac15d7e283e731db6be7865f5004b65bc639014cb8b9753c26e24a9092a1",
        "0192997dd1793880633bfb34ae3ad5129c09a8e0f210c469225451b92cdd8548",
        True,
    ),
    (
        "ElectricDevices",
        8926,
        7711,
        96,
        7,
        "bf9b3e4ebb4bcecc4fe5ef36b5cde85383a78a9c7e83ed2834b00e440feb4d20",
        "64ea1c73040b8c60ef63ebb4a36dc1c4b56b027f9a1dff342469dbf3853a3a20",
        False,
    ),
    (
        "FordA",
        3601,
        1320,
        500,
        2,
        "f80f6df3336194b2d52bb29fc41c980e7f0a809c80a5c5b79121d74622e0a7de",
        "02a17aab8794822957f7d50e3f6904f10b7dfa5c858bbb2b8047c4b0c64bbefe",
        False,
    ),
    ("FordB", 3636, 810, 500, 2, None, None, False),
    (
        "GunPoint",
        50,
        150,
        150,
        2,
        "4d14e4f44a6230087cb4b4ed7844c8b0feb76f07a76108cc367d689e0de8f609",
        "5537eb2f3050e1514f3221b5f4c9799b350fb229ea15eed9e78bbae855505ccf",
        True,
    ),
    (
        "ItalyPowerDemand",
        67,
        1029,
        24,
        2,
        "fab46ef99232ada65773ed89b131954a91ec1da69803159cb1566f320dbaf22e",
        "ab22aa53de4ef55f2e2bcbf0518565704aeec8d76f48ef1180903bf5814c47fc",
        True,
    ),
    (
        "Mallat",
        55,
        2345,
        1024,
        8,
        "77671398d77ae1006cf00e03864193dc3bd786c6f1b5c14ee70996fa9243a09f",
        "6ce8d969a66b431e2260e5ea23f76cef773d4a4c7656b949b918f76bf3822d23",
        False,
    ),
    (
        "ShapesAll",
        600,
        600,
        512,
        60,
        "c55ab9de74bc5cc1068ea45999a76f551b3d58f64caf66dcc3151882142d337e",
        "1a0de98184a51d4827acec26b664c2212ef0893c840ffd05495d372dffa2bfc7",
        False,
    ),
    (
        "SonyAIBORobotSurface1",
        20,
        601,
        70,
        2,
        "71487dd296ad3ccd82c07b2f412dad54620464c01737c2936c84f794fdafd3e2",
        "b65c5401130e362f6c2c26c9afdab8011664875329d48e7e514d445fd0ac932c",
        True,
    ),
    (
        "SonyAIBORobotSurface2",
        27,
        953,
        65,
        2,
        "247ee1c6f2f29b1ba716bc520e6b629f0f84812c3d3ef655cb3a792ad8624867",
        "cd1a080edf800eaadf811d59fd6e4e5913d4673232c3359768b6c7821a647887",
        True,
    ),
    ("StarLightCurves", 1000, 8236, 1024, 3, None, None, False),
    (
        "Symbols",
        25,
        995,
        398,
        6,
        "3921a106708394094e6402121d31a9cacf51d5f99b641bbb1deb56d2391e8191",
        None,
        False,
    ),
    (
        "SyntheticControl",
        300,
        300,
        60,
        6,
        "58af636cbd5592bdda45ba638629e40f17c08354aa545a61fd41b92582bdd176",
        "cd44464b200820913f928a952af78d512ee3924f6243053d28a6d45c0aacdb76",
        True,
    ),
    (
        "TwoPatterns",
        1000,
        4000,
        128,
        4,
        "fe4756d0a92e39994e3cc410912ef4c6929a4559b6bece395a8f8d344e2e619f",
        None,
        False,
    ),
    ("UWaveGestureLibraryAll", 896, 3582, 945, 8, None, None, False),
    (
        "Wafer",
        1000,
        6164,
        152,
        2,
        "a5d44c056e929ce6f406c9e88c135f1d0996bfe73f3aa4508804914956477a02",
        None,
        False,
    ),
]

#: Every dataset the book knows, by name.
REGISTRY: dict[str, UCRInfo] = {row[0]: UCRInfo(*row) for row in _ROWS}

#: The 13 datasets of the NC-VQVAE thesis.
THESIS_DATASETS = (
    "ECG5000",
    "ElectricDevices",
    "FordA",
    "FordB",
    "Mallat",
    "ShapesAll",
    "SonyAIBORobotSurface1",
    "SonyAIBORobotSurface2",
    "StarLightCurves",
    "Symbols",
    "TwoPatterns",
    "UWaveGestureLibraryAll",
    "Wafer",
)

#: Datasets shipped inside the package (small, real UCR data).
BUNDLED = tuple(name for name, info in REGISTRY.items() if info.bundled)
