// The bare context switch, like for like: our `oc_context_jump` (the assembly CoroutineCore
// switches with, linked in from its .S file) and boost.context's `jump_fcontext`, driven by the
// same loop in one process.
//
// For each: a coroutine body loops forever, jumping back to the caller with the value it
// received + 1; the caller jumps in with a counter, 1,000,000 round trips of warm-up, then 31
// samples of 1,000,000 round trips, the two switches' samples interleaved so that both meet the
// same machine state. One round trip = one resume + one suspend; each prints the median ns:
//   oc_context_jump_round_trip_ns=…   boost_fcontext_round_trip_ns=…
// The Swift-level round trip (Benchmarks/Switch) adds the runtime's bookkeeping to the first.
//
// Build (from the repository root; Benchmarks/scripts/bench-switch.sh does it):
//   g++ -O2 -std=c++17 -I Packages/CoroutineCore/Sources/CCoroutineCore/include \
//       Benchmarks/Anchors/bare_switch.cpp \
//       Packages/CoroutineCore/Sources/CCoroutineCore/context_$(uname -m).S -lboost_context

#include <boost/context/detail/fcontext.hpp>

extern "C" {
#include "oc_context.h"
}

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

/// boost.context's switch.
struct Boost {
    using Transfer = ctx::transfer_t;
    static constexpr const char *name = "boost_fcontext";

    [[noreturn]] static void body(Transfer t) {
        for (;;) {
            t = ctx::jump_fcontext(t.fctx, reinterpret_cast<void *>(reinterpret_cast<std::uintptr_t>(t.data) + 1));
        }
    }
    static Transfer start(void *stack_top) { return {ctx::make_fcontext(stack_top, kStackSize, body), nullptr}; }
    static std::uintptr_t jump(Transfer &t, std::uintptr_t value) {
        t = ctx::jump_fcontext(t.fctx, reinterpret_cast<void *>(value));
        return reinterpret_cast<std::uintptr_t>(t.data);
    }
};

/// Ours.
struct Ours {
    using Transfer = oc_transfer;
    static constexpr const char *name = "oc_context_jump";

    [[noreturn]] static void body(Transfer t) {
        for (;;) {
            t = oc_context_jump(t.context, t.value + 1);
        }
    }
    static Transfer start(void *stack_top) { return {oc_context_make(stack_top, body), 0}; }
    static std::uintptr_t jump(Transfer &t, std::uintptr_t value) {
        t = oc_context_jump(t.context, value);
        return t.value;
    }
};

inline std::uint64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// One switch's coroutine on its own stack, and its samples.
template <typename Switch>
struct Bench {
    typename Switch::Transfer transfer;
    std::vector<double> samples;

    explicit Bench(void *stack_top) : transfer(Switch::start(stack_top)) { run(kWarmup); }

    void run(std::uintptr_t n) {
        std::uintptr_t acc = 0;
        for (std::uintptr_t i = 0; i < n; ++i) {
            acc += Switch::jump(transfer, i);
        }
        g_sink = g_sink + acc;
    }

    void sample() {
        std::uint64_t start = now_ns();
        run(kIterations);
        samples.push_back(static_cast<double>(now_ns() - start) / static_cast<double>(kIterations));
    }

    void report() {
        std::sort(samples.begin(), samples.end());
        std::printf("%s_round_trip_ns=%.2f\n", Switch::name, samples[kSamples / 2]);
    }
};

void *stack_top() {
    void *stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED) {
        std::perror("mmap");
        std::exit(1);
    }
    return static_cast<char *>(stack) + kStackSize;
}

}  // namespace

int main() {
    // The coroutines never finish: they are abandoned on their stacks when the process exits.
    Bench<Ours> ours(stack_top());
    Bench<Boost> boost(stack_top());
    for (int s = 0; s < kSamples; ++s) {
        ours.sample();
        boost.sample();
    }
    ours.report();
    boost.report();
    return 0;
}
