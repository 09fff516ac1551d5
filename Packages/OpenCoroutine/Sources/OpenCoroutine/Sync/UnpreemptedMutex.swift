import CoroutineCore
import Synchronization

/// A `Mutex` whose holder is never preempted: a coroutine preempted while holding the lock
/// would deadlock the next coroutine of its thread that asks for it. Every lock the facade
/// takes is one of these (the runtime's own code, in its shared library, is never preempted).
@usableFromInline
struct UnpreemptedMutex<Value: ~Copyable>: ~Copyable, Sendable {
    @usableFromInline let mutex: Mutex<Value>

    /// A mutex guarding `value`.
    @inlinable
    init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, holding the lock, with preemption off.
    @inlinable
    borrowing func withLock<Result: Sendable, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try Preemption.withoutPreemption { () throws(Failure) -> Result in
            try mutex.withLock { (value) throws(Failure) -> Result in try body(&value) }
        }
    }
}
