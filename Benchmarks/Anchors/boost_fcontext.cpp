// Anchor benchmark: boost.context fcontext round trip (resume + suspend).
//
// Mirrors the CoroutineCore Swift round-trip benchmark:
//   - coroutine body loops forever, jumping back to the caller with the
//     value it received + 1;
//   - the main side does `t = jump_fcontext(t.fctx, (void*)i)` in a loop;
//   - one round trip = one resume + one suspend.
// Procedure: 512 KiB mmap'd stack, 1,000,000 warm-up round trips, then
// 31 samples of 1,000,000 round trips each (CLOCK_MONOTONIC); prints the
// median ns per round trip.
//
// Build (from the repository root):
//   g++ -O2 -std=c++17 Benchmarks/Anchors/boost_fcontext.cpp -o /tmp/boost_fcontext -lboost_context

#include <boost/context/detail/fcontext.hpp>

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ctx = boost::context::detail;

namespace {

constexpr std::size_t kStackSize = 512 * 1024;
constexpr std::uintptr_t kWarmup = 1000000;
constexpr std::uintptr_t kIterations = 1000000;
constexpr int kSamples = 31;

volatile std::uintptr_t g_sink = 0;

[[noreturn]] void coroutine_body(ctx::transfer_t t) {
    for (;;) {
        auto v = reinterpret_cast<std::uintptr_t>(t.data);
        t = ctx::jump_fcontext(t.fctx, reinterpret_cast<void *>(v + 1));
    }
}

inline std::uint64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

// Runs `n` round trips, updating `t` (the coroutine's suspended context).
inline void run(ctx::transfer_t &t, std::uintptr_t n) {
    std::uintptr_t acc = 0;
    for (std::uintptr_t i = 0; i < n; ++i) {
        t = ctx::jump_fcontext(t.fctx, reinterpret_cast<void *>(i));
        acc += reinterpret_cast<std::uintptr_t>(t.data);
    }
    g_sink = g_sink + acc;
}

}  // namespace

int main() {
    void *stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED) {
        std::perror("mmap");
        return 1;
    }
    void *stack_top = static_cast<char *>(stack) + kStackSize;

    ctx::transfer_t t{ctx::make_fcontext(stack_top, kStackSize, coroutine_body),
                      nullptr};

    run(t, kWarmup);

    std::vector<double> samples;
    samples.reserve(kSamples);
    for (int s = 0; s < kSamples; ++s) {
        std::uint64_t start = now_ns();
        run(t, kIterations);
        std::uint64_t end = now_ns();
        samples.push_back(static_cast<double>(end - start) /
                          static_cast<double>(kIterations));
    }

    std::sort(samples.begin(), samples.end());
    double median = samples[kSamples / 2];

    std::printf("boost_fcontext_round_trip_ns=%.2f\n", median);

    // The coroutine never finishes; it is simply abandoned on its stack.
    munmap(stack, kStackSize);
    return 0;
}
