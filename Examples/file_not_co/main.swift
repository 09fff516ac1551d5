// file_not_co: file_co with the hooks off. The same 64 tasks write, fsync and read back 1 MiB
// each on 2 threads, but every file call now blocks the thread under its task, as it would
// anywhere else: the syncs wait for the disk two at a time, one per thread, and the round
// takes several times as long as file_co's.
//
// Prints:
//   64 tasks wrote, synced and read back 67108864 bytes on 2 threads in <time>
//   each sync held its thread: they waited two at a time
import CoroutineExampleSupport
import ExampleSupport

exampleMain(usage: "file_not_co") { _ in
    try fileRound(tasks: 64, hooks: false)
}
