// file_co: 64 tasks on 2 threads each write 1 MiB to a file of their own with plain write(2),
// sync it with fsync(2), read it back with pread(2), check it and remove it. In a task these
// calls go through the thread's io_uring: a task waiting for the disk suspends and the others
// run, so the 64 syncs wait for the disk together. file_not_co runs the same with the hooks
// off, where every fsync holds its thread, and takes several times as long.
//
// Prints:
//   64 tasks wrote, synced and read back 67108864 bytes on 2 threads in <time>
//   the syncs waited for the disk together
import CoroutineExampleSupport
import ExampleSupport

exampleMain(usage: "file_co") { _ in
    try fileRound(tasks: 64, hooks: true)
}
