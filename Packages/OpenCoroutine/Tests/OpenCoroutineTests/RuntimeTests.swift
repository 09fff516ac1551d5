import Testing

/// Every test of this package that starts the runtime, which is one per process: nested
/// suites in extensions of this one run one at a time.
@Suite(.serialized) enum RuntimeTests {}
