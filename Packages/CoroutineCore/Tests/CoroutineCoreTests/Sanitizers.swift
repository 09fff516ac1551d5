import Glibc

/// Whether this test process runs under ThreadSanitizer (`make test-tsan`), whose runtime is
/// then linked into the test bundle.
let runsUnderThreadSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil

/// Whether this test process runs under AddressSanitizer or ThreadSanitizer (`make test-asan`,
/// `make test-tsan`).
let runsUnderSanitizer = runsUnderThreadSanitizer || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
