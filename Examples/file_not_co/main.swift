// file_not_co: file_co on plain threads, without the runtime or the hook library: 4 threads
// each write 1 MiB to a temporary file of their own, read it back, check it and remove the
// file. The calls are the same as file_co's and, like file_co's today, go straight to the
// kernel; the difference is a thread per job instead of tasks sharing 2 threads.
//
// Prints:
//   thread 1 wrote 1048576 bytes to a temporary file and read them back
//   ... one line per thread, threads 1 to 4
//   4 threads done in <time>
import ExampleSupport

exampleMain(usage: "file_not_co") { _ in
    let threads = 4
    let start = ContinuousClock.now
    let writers = try (1...threads).map { thread in
        try PlainThread { try writeAndReadBack(size: 1 << 20, tag: UInt8(thread)) }
    }
    for (index, writer) in writers.enumerated() {
        print("thread \(index + 1) wrote \(try writer.join()) bytes to a temporary file and read them back")
    }
    print("\(threads) threads done in \((ContinuousClock.now - start).readable)")
}
