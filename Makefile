# OpenCoroutine: build, test, run and measure.
#   make test          everything: system packages, every package's tests (debug, and the
#                      core in release), the context-switch harness on x86_64 and aarch64, the
#                      hook library under LD_PRELOAD, the core's and the facade's tests under
#                      ASan, and their threaded tests under TSan
#   make hook          libopen_coroutine_hook.so (release) and libCoroutineCore.so into bin/, for
#                      LD_PRELOAD or to ship beside an executable (Docs/hooks.md)
#   make run           the flagship demo: the 100-port echo server and its load client in one
#                      process, printing connections, requests per second and latency
#   make docs          the DocC documentation of CoroutineCore and OpenCoroutine, as static
#                      websites in .build-docs/CoroutineCore and .build-docs/OpenCoroutine
#                      (DocC's warnings are errors)
#   make test-docs     the documentation built with DocC's warnings as errors, and every public
#                      symbol checked for a doc comment (part of make test)
#   make bench-switch  context-switch, spawn and memory figures beside boost.context
#   make bench-spawn   task spawn, yield and skynet figures beside Go
#   make bench-echo    TCP echo round trips per second and p99 latency beside SwiftNIO, Go and
#                      thread-per-connection C (ECHO_SECONDS, ECHO_CONNECTIONS shorten a run)
#   make bench-http    HTTP/1.1 requests per second and p50/p99 latency under wrk (TechEmpower's
#                      plaintext, pipelined and not) beside Hummingbird 2 and Go's net/http
#                      (HTTP_SECONDS, HTTP_CONNECTIONS change a run)
#   make bench-handoff queued tasks behind a held thread with handoff and without, the ticker and
#                      semaphore figures, and what handoff costs spawn and echo when nothing blocks
#   make bench-million 1,000,000 tasks blocked in socket reads at once, then released: memory per
#                      task and the seconds to spawn and release them, beside Go
#   make bench-sleep   100,000 coroutines sleeping 1 s at once, and a ready socket read beside libc
#   make bench-timers  the timer wheel against a binary heap (how the timer structure was chosen)
#   make bench-preempt preemption latency beside Go's, and preemption's cost to CPU-bound work
#   make bench-files   random 4 KiB file reads from 1,000 tasks beside 64 threads and fio
#   make bench-scaling spawn throughput and echo requests/s at 1 and 2 scheduler threads (and nproc)
#   make bench-micro   switch, create, spawn, yield, timer and channel figures as distributions, on
#                      package-benchmark (Benchmarks/Micro, release)
#   make bench-micro-check  the same, failing where a p90 is twice its checked-in threshold
#   make plots         Docs/images/*.png from the latest run of each benchmark, which every
#                      bench script saves in Benchmarks/results/
#   make test-asan     the core's and the facade's tests under AddressSanitizer (part of make test)
#   make soak          the echo server on the hook layer under 10,000 connections of checked,
#                      random-sized messages with half-closes and reconnects, 60 s: bytes lost,
#                      errors, memory growth, p99 (SOAK_SECONDS, SOAK_CONNECTIONS, SOAK_SEED)
#   make test-soak     the soak for 10 s with 2,000 connections, failing on any lost byte or
#                      error (part of make test)
#   make test-tsan     the work-stealing, scheduler, pool, event-loop and channel tests under
#                      ThreadSanitizer (part of make test)
#   make fuzz          the errno fuzz alone: FUZZ_SEQUENCES random call sequences (10,000, as in
#                      make test) from FUZZ_SEED, through libc and through the hook library in a
#                      task; each difference prints its seed for a replay (Docs/syscalls.md)
#   make test-user-package  a user's own package on the facade, built from a scratch copy (part
#                      of make test): its output, and the hook library before libc in DT_NEEDED

SHELL := /bin/bash
PACKAGES := Packages/CoroutineCore Packages/CoroutineHook Packages/OpenCoroutine
SYSTEM_PACKAGES := liburing-dev libjemalloc-dev libboost-context-dev g++ \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libhiredis-dev redis-server libsqlite3-dev

.PHONY: deps build hook docs test test-packages test-release test-context test-workspace test-preload test-sqlite test-asan test-tsan test-user-package test-docs run bench-switch bench-spawn bench-echo bench-handoff bench-http bench-million bench-scaling bench-sleep bench-timers bench-preempt bench-files bench-micro bench-micro-check plots soak test-soak fuzz clean

deps:
	@scripts/install-deps.sh $(SYSTEM_PACKAGES)

build: deps
	swift build

# The plugin may write only where it is allowed to; the flags grant that without a prompt.
hook: deps
	swift package --package-path Packages/CoroutineHook --allow-writing-to-package-directory \
		--allow-writing-to-directory $(CURDIR)/bin build-hook-library --output $(CURDIR)/bin

# The documentation (swift-docc-plugin's generate-documentation, DocC's warnings as errors),
# one static website per package: serve one, for example with
# `python3 -m http.server -d .build-docs/OpenCoroutine`, and open /documentation/opencoroutine.
# Each package builds in its own scratch folder under .build-docs, apart from other builds.
DOC_MODULES := CoroutineCore OpenCoroutine
DOCS := $(CURDIR)/.build-docs

docs: deps
	@set -e; for module in $(DOC_MODULES); do \
		echo "== documentation of $$module"; \
		swift package --package-path Packages/$$module --scratch-path $(DOCS)/build/$$module \
			--allow-writing-to-directory $(DOCS) generate-documentation --target $$module \
			--warnings-as-errors --output-path $(DOCS)/$$module; \
	done

# DocC warns about links and curation but not about undocumented symbols: the check reads the
# symbol graphs the build above gave DocC and lists the public symbols without a doc comment.
test-docs: docs
	@set -e; for module in $(DOC_MODULES); do \
		scripts/check-doc-comments.py $$module $(DOCS)/build/$$module Packages/$$module/Sources/$$module; \
	done

test: deps test-context test-packages test-release test-workspace test-preload test-sqlite test-asan test-tsan test-user-package test-docs test-soak

test-packages:
	@set -e; for package in $(PACKAGES); do \
		echo "== swift test in $$package"; \
		swift test --package-path $$package; \
	done

# The switch path is hand-tuned for the optimizer (no retain may cross a suspension):
# the core's tests run optimized too.
test-release:
	swift test --package-path Packages/CoroutineCore -c release -Xswiftc -enable-testing

test-context:
	scripts/test-context.sh

test-preload: hook
	scripts/test-preload.sh $(CURDIR)/bin

test-user-package:
	scripts/test-user-package.sh

# The system's SQLite from tasks, in release (scripts/test-sqlite.sh).
test-sqlite:
	scripts/test-sqlite.sh

# The sanitizers see every switch between stacks: the switch annotates them for each
# (Docs/coroutines.md, "Under the sanitizers"), and each build has its own scratch folder.
# Neither run links jemalloc (OC_ASAN, OC_TSAN: the sanitizer's allocator must serve malloc).
# LeakSanitizer is off: it scans thread stacks but not coroutine stacks, so an object only a
# suspended coroutine refers to looks leaked, and what an overflowed coroutine held is leaked by
# design (Docs/architecture.md, "Faults"); a leak allocated inside a coroutine has a stack that
# ends at the coroutine's entry, which no suppression could tell from a real one.
test-asan:
	@set -e; for package in CoroutineCore OpenCoroutine; do \
		echo "== swift test under AddressSanitizer in Packages/$$package"; \
		OC_ASAN=1 ASAN_OPTIONS=detect_leaks=0 swift test --package-path Packages/$$package \
			--scratch-path .build-asan/$$package --sanitize=address; \
	done

# ThreadSanitizer over the tests that move coroutines between threads: the work-stealing queues,
# the scheduler, the pool, the event loop, parking, and (in the facade) the sync toolkit, whose
# handovers claim and wake parking tokens across threads. The suppressions file
# says why each entry is there (Swift's Mutex hands a contended lock over where TSan cannot see).
# The core's run covers handoff (CoroutineRuntimeTests start spares). The facade's sync
# tests run without it: under TSan most time is the sanitizer's own, whose internal locks put
# threads in futex waits that look held, and spares on 2 cores only multiplied that contention
# (the many-producers test took 44 s instead of 22, past its minute in the full run).
TSAN_OPTIONS := suppressions=$(CURDIR)/scripts/tsan-suppressions.txt
test-tsan:
	OC_TSAN=1 TSAN_OPTIONS=$(TSAN_OPTIONS) swift test --package-path Packages/CoroutineCore \
		--scratch-path .build-tsan/CoroutineCore --sanitize=thread --no-parallel --filter 'WorkStealing|Scheduler|CoroutineRuntime|EventLoop|Parking|ThreadCPUClock'
	OC_TSAN=1 TSAN_OPTIONS=$(TSAN_OPTIONS) OPEN_COROUTINE_HANDOFF_AFTER_US=off swift test --package-path Packages/OpenCoroutine \
		--scratch-path .build-tsan/OpenCoroutine --sanitize=thread --no-parallel --filter 'Channel|Select|CoMutex|CoSemaphore|CoCondition|WaitGroup'

# The file tests time a ticking coroutine beside 1,000 file readers: they run on their own,
# after the rest, so that no other test's processes share the 2 cores with them. The crash and
# debugger tests start hundreds of child processes, which inherit whatever descriptors the
# other tests hold at that moment (the errno fuzz's socket pairs, whose answers then change
# while a child holds a copy), and time the crashes against a 5 s bound: they run on their own too.
# So does the spawn storm that checks the watchdog ignores waits for the runtime's own locks: beside
# the other tests (a fresh-clone run), one of its probe's waits drew a warning all the same.
test-workspace:
	swift build --build-tests
	swift test --skip-build --skip FileTests --skip CrashTests --skip DebuggerTests --skip waitsForTheRuntimesOwnLocks
	swift test --skip-build --filter FileTests
	swift test --skip-build --filter 'CrashTests|DebuggerTests'
	swift test --skip-build --filter waitsForTheRuntimesOwnLocks

# The errno fuzz (Tests/IntegrationTests/ErrnoFuzzTests.swift) reads its count and first seed
# from the environment; an empty FUZZ_SEED leaves the test's own.
FUZZ_SEQUENCES ?= 10000
FUZZ_SEED ?=
fuzz: deps
	swift build --build-tests
	FUZZ_SEQUENCES=$(FUZZ_SEQUENCES) FUZZ_SEED=$(FUZZ_SEED) swift test --skip-build --filter ErrnoFuzz

run: deps
	swift run echo_demo

bench-switch: deps
	Benchmarks/scripts/bench-switch.sh

bench-spawn: deps
	Benchmarks/scripts/bench-spawn.sh

bench-echo: deps
	Benchmarks/scripts/bench-echo.sh

bench-handoff: deps
	Benchmarks/scripts/bench-handoff.sh

bench-http: deps
	Benchmarks/scripts/bench-http.sh

bench-million: deps
	Benchmarks/scripts/bench-million.sh

bench-scaling: deps
	Benchmarks/scripts/bench-scaling.sh

bench-sleep: deps
	Benchmarks/scripts/bench-sleep.sh

bench-preempt: deps
	Benchmarks/scripts/bench-preempt.sh

bench-files: deps
	Benchmarks/scripts/bench-files.sh

# The micro benchmarks are a package of their own (Benchmarks/Micro), built in release in its own
# scratch folder; the check compares each p90 with Benchmarks/Micro/Thresholds.
MICRO := $(CURDIR)/Benchmarks/Micro
MICRO_BENCHMARK := swift package --package-path $(MICRO) --scratch-path $(MICRO)/.build benchmark

bench-micro: deps
	$(MICRO_BENCHMARK) --benchmark-build-configuration release --no-progress

bench-micro-check: deps
	$(MICRO_BENCHMARK) thresholds check --path $(MICRO)/Thresholds \
		--benchmark-build-configuration release --no-progress

plots:
	@scripts/install-deps.sh python3-matplotlib
	Benchmarks/scripts/plot.py

# The soak's client is a second process of the same program; scripts/soak.sh builds it in
# release and passes SOAK_SECONDS, SOAK_CONNECTIONS, SOAK_WARMUP and SOAK_SEED on.
soak: deps
	scripts/soak.sh

test-soak: deps
	SOAK_SECONDS=10 SOAK_CONNECTIONS=2000 scripts/soak.sh

bench-timers:
	swift run --scratch-path .build-bench/timers -c release timer_benchmark

clean:
	rm -rf .build .build-* $(addsuffix /.build,$(PACKAGES))
