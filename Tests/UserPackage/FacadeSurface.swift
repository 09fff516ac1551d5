// Not part of UserPackage's build. scripts/test-user-package.sh adds it to the scratch copy as
// a program of its own and requires that it not compile, with exactly these errors:
//
// - every name assigned to `_` at the top is refused: the facade exports what an application
//   needs and none of the runtime's machinery, so a user's own `Scheduler` or `Config` never
//   meets the runtime's (code that needs these imports CoroutineCore);
// - every line marked `// blocks` is refused: each call blocks its caller, so each is
//   `noasync`, and async code must await instead.
import OpenCoroutine

_ = Syscall.self               // the libc-shaped layer (as SwiftNIO keeps its Posix internal)
_ = Scheduler.self
_ = ParkingLot.self
_ = StackGrowth.self
_ = CoroutineRuntime.self
_ = RuntimeConfiguration.self
_ = Coroutine<Void, Void, Void>.self

func blockingCallsInAsyncCode(
    _ handle: JoinHandle<Int>, _ channel: Channel<Int>, _ mutex: CoMutex, _ condition: CoCondition,
    _ semaphore: CoSemaphore, _ group: WaitGroup
) async throws {
    _ = try handle.join()                                                   // blocks
    _ = try handle.join(timeout: .seconds(1))                               // blocks
    _ = try JoinHandle.any([handle])                                        // blocks
    try channel.send(1)                                                     // blocks
    _ = try channel.send(1, timeout: .seconds(1))                           // blocks
    _ = try channel.receive()                                               // blocks
    for _ in channel {}                                                     // blocks
    try mutex.lock()                                                        // blocks
    try mutex.withLock {}                                                   // blocks
    try condition.wait(on: mutex)                                           // blocks
    _ = try condition.wait(on: mutex, until: .now + .seconds(1))            // blocks
    try semaphore.wait()                                                    // blocks
    _ = try semaphore.wait(timeout: .seconds(1))                            // blocks
    try group.wait()                                                        // blocks
    _ = try group.wait(timeout: .seconds(1))                                // blocks
    _ = try Select<Int?>().receive(from: channel) { $0 }.wait()             // blocks
    _ = try Select<Int?>().receive(from: channel) { $0 }.wait(timeout: .seconds(1))  // blocks
    _ = try awaitResult { 1 }                                               // blocks
    try withCoroutines {}                                                   // blocks
}
