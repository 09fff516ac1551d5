#!/usr/bin/python3
"""Draws the headline comparisons of Docs/benchmarks.md from the benchmarks' own lines.

Each `make bench-*` run saves its name=value lines as Benchmarks/results/<script>.txt; this
reads those files and writes one PNG per comparison into Docs/images/ (`make plots`). A
comparison whose figures are not all in the results is skipped with a note on stderr, so a
plot is never drawn from a partial run.

Uses Debian's matplotlib (python3-matplotlib), hence /usr/bin/python3.
"""

import pathlib
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = ROOT / "Benchmarks" / "results"
IMAGES = ROOT / "Docs" / "images"
OURS, ANCHOR = "#d9534f", "#5b7fa6"

# Bar charts: file, title, unit and direction, and the bars (label, figure, whether it is ours).
BARS = [
    ("switch.png", "Context switch round trip", "ns (lower is better)", [
        ("ours: oc_context_jump", "oc_context_jump_round_trip_ns", True),
        ("boost.context", "boost_fcontext_round_trip_ns", False),
        ("ours: Swift round trip\n(all bookkeeping)", "switch_round_trip_ns", True),
    ]),
    ("echo-rps.png", "TCP echo, 1,000 connections", "round trips per second (higher is better)", [
        ("ours", "echo_rps_ours", True),
        ("SwiftNIO", "echo_rps_nio", False),
        ("Go", "echo_rps_go", False),
        ("threads", "echo_rps_threads", False),
    ]),
    ("http-rps.png", "HTTP /plaintext, 256 connections, pipelined 16 deep (TechEmpower)",
     "requests per second (higher is better)", [
        ("ours", "http_rps_ours", True),
        ("Hummingbird 2", "http_rps_hummingbird", False),
        ("Go net/http", "http_rps_go", False),
    ]),
    ("http-rps-single.png", "HTTP /plaintext, 256 connections, one request per write",
     "requests per second (higher is better)", [
        ("ours", "http_nopipe_rps_ours", True),
        ("Hummingbird 2", "http_nopipe_rps_hummingbird", False),
        ("Go net/http", "http_nopipe_rps_go", False),
    ]),
    ("preempt.png", "Preemption latency of a spinning task", "p99 ms (lower is better)", [
        ("ours", "preempt_latency_p99_ms", True),
        ("Go", "go_preempt_latency_p99_ms", False),
    ]),
    ("files.png", "Random 4 KiB file reads", "MB/s (higher is better)", [
        ("ours: 1,000 tasks\non 2 threads", "file_read_mbps_ours", True),
        ("64 threads", "file_read_mbps_threads", False),
        ("2 threads", "file_read_mbps_threads_per_core", False),
        ("fio (io_uring)", "file_read_mbps_fio", False),
    ]),
]

# Side-by-side pairs, one panel each: ours against Go on the scheduling figures.
PAIRS = ("spawn.png", "Scheduling beside Go (GOMAXPROCS=2), lower is better", [
    ("spawn + join, ns", "spawn_join_ns", "go_spawn_join_ns"),
    ("switched yield, ns", "switched_yield_ns", "go_switched_gosched_ns"),
    ("skynet, ms", "skynet_ms", "go_skynet_ms"),
    ("skynet, no inline joins, ms", "skynet_noinline_ms", "go_skynet_ms"),
    ("channel ping-pong, ns", "channel_pingpong_ns", "go_channel_pingpong_ns"),
    ("ping-pong, 1 thread, ns", "channel_pingpong_1t_ns", "go_channel_pingpong_1t_ns"),
])

# The echo latency distribution: percentiles of each server.
LATENCY = ("echo-latency.png", "TCP echo round-trip latency, 1,000 connections", ["ours", "nio", "go", "threads"],
           {"ours": "ours", "nio": "SwiftNIO", "go": "Go", "threads": "threads"}, ["50", "90", "99"])


def read_results():
    """Every name=value pair of every results file (a line may hold several)."""
    figures = {}
    for path in sorted(RESULTS.glob("*.txt")):
        for word in path.read_text().split():
            name, _, value = word.partition("=")
            try:
                figures[name] = float(value)
            except ValueError:
                continue
    return figures


def present(figures, names, plot):
    missing = [name for name in names if name not in figures]
    if missing:
        print(f"plot: skipping {plot}, no {', '.join(missing)} in {RESULTS}", file=sys.stderr)
    return not missing


def bars(figures, file, title, unit, entries):
    if not present(figures, [figure for _, figure, _ in entries], file):
        return
    values = [figures[figure] for _, figure, _ in entries]
    figure, axes = plt.subplots(figsize=(7, 3.8))
    drawn = axes.bar([label for label, _, _ in entries], values,
                     color=[OURS if ours else ANCHOR for _, _, ours in entries])
    axes.bar_label(drawn, labels=[f"{value:,.4g}" for value in values], padding=2)
    axes.set_title(title)
    axes.set_ylabel(unit)
    axes.margins(y=0.15)
    save(figure, file)


def pairs(figures, file, title, panels):
    if not present(figures, [name for _, ours, go in panels for name in (ours, go)], file):
        return
    figure, axes = plt.subplots(1, len(panels), figsize=(11, 3.6))
    for panel, (label, ours, go) in zip(axes, panels):
        values = [figures[ours], figures[go]]
        drawn = panel.bar(["ours", "Go"], values, color=[OURS, ANCHOR])
        panel.bar_label(drawn, labels=[f"{value:,.4g}" for value in values], padding=2)
        panel.set_title(f"{label}\nratio {figures[ours] / figures[go]:.2f}")
        panel.margins(y=0.18)
    figure.suptitle(title)
    save(figure, file)


def latency(figures, file, title, servers, labels, percentiles):
    names = [f"echo_p{p}_us_{server}" for server in servers for p in percentiles]
    if not present(figures, names, file):
        return
    figure, axes = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / len(percentiles)
    for index, p in enumerate(percentiles):
        positions = [server + (index - (len(percentiles) - 1) / 2) * width for server in range(len(servers))]
        values = [figures[f"echo_p{p}_us_{server}"] / 1e3 for server in servers]
        axes.bar(positions, values, width, label=f"p{p}", color=plt.cm.Reds(0.35 + 0.25 * index))
    axes.set_xticks(range(len(servers)), [labels[server] for server in servers])
    axes.set_ylabel("ms (lower is better)")
    axes.set_title(title)
    axes.legend()
    save(figure, file)


def save(figure, file):
    IMAGES.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(IMAGES / file, dpi=110)
    plt.close(figure)
    print(f"plot: {IMAGES.relative_to(ROOT) / file}")


def main():
    figures = read_results()
    for entry in BARS:
        bars(figures, *entry)
    pairs(figures, *PAIRS)
    latency(figures, *LATENCY)


if __name__ == "__main__":
    main()
