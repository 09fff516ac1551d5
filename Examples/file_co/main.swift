// file_co: 4 tasks each write 1 MiB to a temporary file of their own with plain write(2),
// read it back with pread(2), check it and remove the file. File calls are not turned into
// suspensions: the hooks wait on the event loop only for sockets, and files go straight to
// the kernel (io_uring for files is not built yet). Each call holds its thread while the kernel
// works, which for a file in the page cache is a few microseconds, so the tasks still share
// the 2 threads well. file_not_co does the same on plain threads.
//
// Prints:
//   task 1 wrote 1048576 bytes to a temporary file and read them back
//   ... one line per task, tasks 1 to 4
//   4 tasks done in <time> on 2 threads
import ExampleSupport
import OpenCoroutine

exampleMain(usage: "file_co") { _ in
    let tasks = 4
    try OpenCoroutine.main(Config(threads: 2)) {
        let start = ContinuousClock.now
        let writers = try (1...tasks).map { task in
            try co { try writeAndReadBack(size: 1 << 20, tag: UInt8(task)) }
        }
        for (index, writer) in writers.enumerated() {
            print("task \(index + 1) wrote \(try writer.join()) bytes to a temporary file and read them back")
        }
        print("\(tasks) tasks done in \((ContinuousClock.now - start).readable) on 2 threads")
    }
}
