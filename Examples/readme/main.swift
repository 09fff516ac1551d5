// The example of README.md, kept here so that it is built and run by the tests.
import Glibc
import OpenCoroutine

try withCoroutines(Config(threads: 2)) {
    // 1,000 tasks sleep 100 ms each with plain usleep: only the task waits, not its thread.
    let sleepers = try (1...1_000).map { n in try co { usleep(100_000); return n } }
    print(try sleepers.reduce(0) { $0 + (try $1.join()) })      // 500500, after about 100 ms

    // Blocking socket calls, unchanged: the reader suspends until the writer writes.
    var pair: [Int32] = [0, 0]
    socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair)
    let (left, right) = (pair[0], pair[1])
    let reader = try co { () -> String in
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(left, &buffer, buffer.count)
        return String(decoding: buffer[..<max(count, 0)], as: UTF8.self)
    }
    try co { usleep(10_000); _ = write(right, "ping", 4) }
    print(try reader.join())                                    // ping
}

// A generator: ordinary code that yields, suspended between elements.
let squares = Generator<Int> { yield throws(CoroutineError) in
    for n in 1...4 { try yield(n * n) }
}
print(Array(squares))                                           // [1, 4, 9, 16]
