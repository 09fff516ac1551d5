/// SplitMix64: a tiny, fast generator whose sequence is fixed by its seed. The work-stealing
/// queues pick victims with it, and tests, the errno fuzz, the soak and the timer benchmark use
/// it so that a run replays from the seed it printed.
///
/// One definition, compiled into each of those modules through a symbolic link to this file
/// (TestSupport/DescriptorScenarios, Tests/Soak, Benchmarks/Timers) rather than shared as a
/// module: the runtime keeps it internal and specialized on its stealing path, the fuzz's
/// support must not link the runtime (a static copy beside the dynamic one would break the
/// one-runtime rule), and the soak lives in another package. So the file stays internal and
/// depends on nothing.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
