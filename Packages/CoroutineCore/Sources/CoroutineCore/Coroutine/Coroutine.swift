import CCoroutineCore

/// A stackful coroutine: a closure that runs on its own stack and can suspend anywhere,
/// however deep in ordinary synchronous calls, and later resume where it left off.
///
/// ```swift
/// let counter = Coroutine<Int, Int, String> { suspender, start in
///     var next = start
///     while next < 3 { next = try suspender.suspend(with: next) + 1 }
///     return "done at \(next)"
/// }
/// try counter.resume(with: 0)   // .yielded(0)
/// try counter.resume(with: 1)   // .yielded(2)
/// try counter.resume(with: 2)   // .returned("done at 3")
/// ```
///
/// The first `resume(with:)` starts the body with its input; each later one returns the
/// input from the `suspend(with:)` the body is waiting in. A body that throws ends the
/// coroutine `failed`, and `resume` rethrows the error. A coroutine may be resumed on any
/// thread, one thread at a time; errno and the Swift runtime's exclusivity-tracking state
/// travel with it.
///
/// Dropping the last reference to a suspended coroutine cancels it (see `cancel()`), so the
/// values on its stack are released.
public final class Coroutine<Input, Yield, Return>: AnyCoroutine, @unchecked Sendable {
    /// The code a coroutine runs: it receives a suspender and the first input.
    public typealias Body = (Suspender<Input, Yield>, Input) throws -> Return

    /// Creates a coroutine that runs `body` on a stack of `stackSize` bytes when first resumed.
    ///
    /// The stack is taken from a shared pool at the first resume and given back when the
    /// coroutine ends; an invalid size makes that resume throw `CoroutineError.invalidStackSize`.
    @inlinable
    public init(name: String? = nil, stackSize: Int = StackSize.default, _ body: @escaping Body) {
        super.init(name: name, stackSize: stackSize, start: { Coroutine.start($0, body) })
    }

    /// Runs the coroutine until it suspends or ends.
    ///
    /// - Returns: `.yielded(value)` when the body suspended with `value`, `.returned(value)`
    ///   when the body returned.
    /// - Throws: the body's error when it throws; `CoroutineError.stackOverflow` when it ran
    ///   out of stack; `CoroutineError.notResumable` when it is running or finished;
    ///   `CoroutineError.resumedOutsideScheduler` when it was submitted to a `Scheduler`.
    @inlinable
    public func resume(with input: Input) throws -> CoroutineResult<Yield, Return> {
        let frame = try beginResume()
        var inbox: Input? = input
        var outbox: Yield?
        var returned: Return?
        // Only a scheduled coroutine hands over (Scheduler.handOver), and only when its
        // scheduler resumed it: what leaves here is this coroutine.
        let ended = withUnsafeMutablePointer(to: &inbox) { inbox in
            withUnsafeMutablePointer(to: &outbox) { outbox in
                withUnsafeMutablePointer(to: &returned) { returned in
                    run(frame, inbox: UnsafeMutableRawPointer(inbox), outbox: UnsafeMutableRawPointer(outbox),
                        returnbox: UnsafeMutableRawPointer(returned)).ended
                }
            }
        }
        if !ended, let value = outbox {
            return .yielded(value)
        }
        if let value = returned {
            return .returned(value)
        }
        throw failure ?? CoroutineError.cancelled
    }

    /// How the coroutine ended, with the returned value or the failure; nil until it ends.
    public var end: CoroutineEnd<Return>? {
        switch status {
        case .ready, .running, .suspended: return nil
        case .cancelled: return .cancelled
        case .complete, .failed:
            if let returned = completion as? Return { return .returned(returned) }
            return .failed(failure ?? CoroutineError.cancelled)
        }
    }

    /// Runs `body` for `coroutine`, a `Self`, on the coroutine's own stack.
    ///
    /// `coroutine` is borrowed from the frame, never retained: a reference held across the
    /// body's suspensions would keep a dropped coroutine alive from its own stack.
    @inlinable
    static func start(_ coroutine: AnyCoroutine, _ body: Body) {
        do {
            let input = try coroutine.receiveInput(as: Input.self).get()
            coroutine.complete(with: try body(Suspender(coroutine: .passUnretained(coroutine)), input))
        } catch {
            coroutine.failure = error
        }
    }
}

extension Coroutine where Input == Void {
    /// Runs the coroutine until it suspends or ends; see `resume(with:)`.
    @inlinable
    public func resume() throws -> CoroutineResult<Yield, Return> {
        try resume(with: ())
    }
}

extension Coroutine where Input == Never, Yield == Never, Return == Never {
    /// The coroutine running on this thread, or nil on a plain thread.
    public static var current: AnyCoroutine? {
        AnyCoroutine.current
    }
}

/// The handle a coroutine's body suspends through.
///
/// Valid only inside the body it was given to: using it anywhere else throws
/// `CoroutineError.suspendedOutsideCoroutine`.
public struct Suspender<Input, Yield> {
    // Unretained: the coroutine outlives its body. A strong reference held across the
    // switch would sit on the coroutine's own stack and keep a dropped coroutine alive.
    @usableFromInline let coroutine: Unmanaged<AnyCoroutine>

    @usableFromInline
    init(coroutine: Unmanaged<AnyCoroutine>) {
        self.coroutine = coroutine
    }

    /// Suspends the coroutine, handing `value` to the resumer; returns the next input.
    ///
    /// - Throws: `CoroutineError.cancelled` once the coroutine is cancelled.
    @inlinable
    public func suspend(with value: Yield) throws(CoroutineError) -> Input {
        let frame = try coroutine._withUnsafeGuaranteedRef { $0.prepareSuspension(yielding: value) }.get()
        AnyCoroutine.arrived(handedOverBy: oc_frame_suspend(frame))
        return try coroutine._withUnsafeGuaranteedRef { $0.receiveInput(as: Input.self) }.get()
    }
}

extension Suspender where Yield == Void {
    /// Suspends the coroutine; returns the next input.
    @inlinable
    public func suspend() throws(CoroutineError) -> Input {
        try suspend(with: ())
    }
}
