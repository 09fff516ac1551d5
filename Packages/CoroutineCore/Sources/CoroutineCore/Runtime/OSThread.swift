import Glibc

/// Why an OS thread did not start: the error number `pthread_create` returned.
struct ThreadStartFailure: Error {
    let errno: Int32
}

/// Starts an OS thread that runs `body` and ends; returns its handle, for joining or detaching.
///
/// The one place the runtime's threads (scheduler threads and spares, the preemption monitor,
/// the blocking pools' workers) are created.
func startThread(_ body: @escaping @Sendable () -> Void) throws(ThreadStartFailure) -> pthread_t {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        // Sound: `startThread` passed a retained box, taken back here once.
        Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().run()
        return nil
    }, box)
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        throw ThreadStartFailure(errno: result)
    }
    return thread
}

/// What a new thread runs, boxed to cross `pthread_create`'s one pointer argument.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}
