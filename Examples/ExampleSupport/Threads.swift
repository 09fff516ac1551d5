import Glibc

/// A plain POSIX thread running one closure, whose result `join` returns: the examples without
/// coroutines use it where their coroutine twins use `co`.
public final class PlainThread<Value: Sendable>: Sendable {
    private let thread: pthread_t
    private let outcome: Outcome

    /// Where the thread leaves its result; written by the thread before it ends and read only
    /// after `pthread_join`, which orders the two.
    private final class Outcome: @unchecked Sendable {
        var result: Result<Value, any Error>?
    }

    /// Starts a thread running `body`.
    public init(_ body: @escaping @Sendable () throws -> Value) throws {
        let outcome = Outcome()
        thread = try startThread { outcome.result = Result { try body() } }
        self.outcome = outcome
    }

    /// Waits for the thread; returns what its body returned, or throws what it threw. Call it
    /// once: a thread can be joined only once.
    public func join() throws -> Value {
        pthread_join(thread, nil)
        guard let result = outcome.result else { throw CallError("pthread_join", code: ESRCH) }
        return try result.get()
    }
}

/// The closure a new thread runs, passed through pthread_create's untyped argument.
private final class ThreadEntry {
    let run: () -> Void

    init(_ run: @escaping () -> Void) {
        self.run = run
    }
}

/// Starts a joinable thread running `run`. Not generic: a C function pointer, such as
/// pthread_create's start routine, cannot depend on a generic parameter.
private func startThread(_ run: @escaping () -> Void) throws -> pthread_t {
    let context = Unmanaged.passRetained(ThreadEntry(run)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        context.map { Unmanaged<ThreadEntry>.fromOpaque($0).takeRetainedValue().run() }
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<ThreadEntry>.fromOpaque(context).release()
        throw CallError("pthread_create", code: status)
    }
    return thread
}
