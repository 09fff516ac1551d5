#!/usr/bin/env bash
# Random 4 KiB reads of one 1 GiB file: our runtime (1,000 tasks on 2 threads, io_uring) beside
# 64 plain threads with pread, and beside fio's io_uring engine (Debian's fio, installed when
# missing) doing the same work: 4 KiB reads at uniformly random block offsets drawn with
# replacement (--norandommap --randrepeat=0: by default fio visits each block once per pass, so
# none of its reads finds a page an earlier read brought in, while ours and the threads' do), 2
# jobs of queue depth 512 (1,024 reads in flight, as ours has 1,000), and readahead left on as
# for the others (fio's default hint of random reads would turn it off and measure the disk
# instead of the page cache). Prints name=value lines and the ratios. FILES_SECONDS sets each
# run's length (default 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source Benchmarks/scripts/lib/output.sh
out="$root/.build-bench"
seconds=${FILES_SECONDS:-5}
"$root/scripts/install-deps.sh" fio >&2
rm -rf "$out/swift/release" "$out/swift/$(uname -m)-unknown-linux-gnu/release"
step "building ours (release)"
swift build -c release --product files_benchmark --scratch-path "$out/swift" >/dev/null
data="$out/files/data"
[ -e "$data" ] || step "no ${data#"$root"/} yet: the benchmark writes its 1 GiB first"
# One program measures both, one after the other.
ours=$(FILES_PATH="$data" FILES_SECONDS="$seconds" run_step "running ours, then 64 threads, then 2 threads (${seconds} s each)" \
    "$out/swift/release/files_benchmark")
emit "$ours"
# fio reads the same file, its cached pages dropped first as for the others.
python3 -c "import os; fd = os.open('$data', os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)"
fio_mbps=$(run_step "running fio (${seconds} s)" \
    fio --name=randread --filename="$data" --rw=randread --bs=4k --ioengine=io_uring --iodepth=512 --fadvise_hint=0 \
    --norandommap --randrepeat=0 --numjobs=2 --time_based --runtime="$seconds" --group_reporting --output-format=json |
    python3 -c "import json, sys; print('%.2f' % (json.load(sys.stdin)['jobs'][0]['read']['bw_bytes'] / 1e6))")
emit "file_read_mbps_fio=$fio_mbps"
ratio file_ours_vs_fio "$(value file_read_mbps_ours "$ours")" "$fio_mbps"
summary
