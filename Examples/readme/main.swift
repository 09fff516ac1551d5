// The example of README.md, kept here so that it is built and run by the tests.
import OpenCoroutine

// A generator: ordinary code that yields, suspended between elements.
let squares = Generator<Int> { yield throws(CoroutineError) in
    for n in 1...4 { try yield(n * n) }
}
print(Array(squares))                                   // [1, 4, 9, 16]

// Tasks on a pool of coroutines over 2 threads; sleeping suspends only the task.
let runtime = CoroutineRuntime.shared
try runtime.start(RuntimeConfiguration(threads: 2))
let handles = try (1...1_000).map { n in
    try runtime.spawn { () -> Int in
        try Scheduler.sleep(for: .milliseconds(100))    // 1,000 sleeps, ~100 ms in all
        return n
    }
}
print(try handles.reduce(0) { $0 + (try $1.join()) })   // 500500
runtime.stop()

// Deep recursion on a small stack: grow onto a fresh stack when little remains.
func depth(_ n: Int) -> Int { n == 0 ? 0 : maybeGrowStack { depth(n - 1) + 1 } }
print(depth(100_000))                                   // 100000
