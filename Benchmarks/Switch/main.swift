// Figures of the coroutine foundation, printed as name=value lines.
//
//   switch_round_trip_ns             one resume plus one suspend, median of 31 samples
//                                    (includes the errno and exclusivity-context save)
//   coroutine_create_run_destroy_ns  create, run to completion and release, pooled stacks
//   suspended_coroutines / rss_per_coroutine_bytes
//                                    resident memory per suspended coroutine, 100,000 alive
import CoroutineCore
import Foundation
import OpenCoroutine

/// Median nanoseconds per operation over `samples` runs of `operations` operations.
func median(samples: Int = 31, operations: Int, _ run: (Int) throws -> Void) rethrows -> Double {
    var perOperation: [Double] = []
    for _ in 0..<samples {
        let start = DispatchTime.now().uptimeNanoseconds
        try run(operations)
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        perOperation.append(Double(elapsed) / Double(operations))
    }
    return perOperation.sorted()[samples / 2]
}

func format(_ value: Double) -> String {
    String(format: "%.2f", value)
}

func roundTripNanoseconds() throws -> Double {
    let echo = Coroutine<Int, Int, Void> { suspender, first in
        var value = first
        while true { value = try suspender.suspend(with: value &+ 1) }
    }
    var sink = 0
    for i in 0..<1_000_000 {
        if case .yielded(let value) = try echo.resume(with: i) { sink &+= value }
    }
    let result = try median(operations: 1_000_000) { count in
        for i in 0..<count {
            if case .yielded(let value) = try echo.resume(with: i) { sink &+= value }
        }
    }
    precondition(sink != 0)
    return result
}

func createRunDestroyNanoseconds() throws -> Double {
    var sink = 0
    let result = try median(operations: 100_000) { count in
        for i in 0..<count {
            let coroutine = Coroutine<Int, Never, Int> { _, input in input &+ 1 }
            if case .returned(let value) = try coroutine.resume(with: i) { sink &+= value }
        }
    }
    precondition(sink != 0)
    return result
}

func residentBytes() throws -> Int {
    let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func residentBytesPerSuspendedCoroutine(count: Int) throws -> Int {
    var coroutines: [Coroutine<Void, Int, Void>] = []
    coroutines.reserveCapacity(count)
    let before = try residentBytes()
    for index in 0..<count {
        let coroutine = Coroutine<Void, Int, Void> { suspender, _ in
            let words = ["coroutine", String(index), "suspended"]
            try suspender.suspend(with: words.joined(separator: " ").count)
        }
        _ = try coroutine.resume()
        coroutines.append(coroutine)
    }
    let after = try residentBytes()
    withExtendedLifetime(coroutines) {}
    return (after - before) / count
}

print("switch_round_trip_ns=\(format(try roundTripNanoseconds()))")
print("coroutine_create_run_destroy_ns=\(format(try createRunDestroyNanoseconds()))")
let suspended = 100_000
print("suspended_coroutines=\(suspended) rss_per_coroutine_bytes=\(try residentBytesPerSuspendedCoroutine(count: suspended))")
