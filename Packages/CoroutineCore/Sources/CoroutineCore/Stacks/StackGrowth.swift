import CCoroutineCore

/// Defaults for `maybeGrowStack(redZone:stackSize:_:)`.
public enum StackGrowth {
    /// Grow when fewer than 64 KiB of stack remain.
    public static let defaultRedZone = 64 * 1024
    /// Grown stacks are 1 MiB by default.
    public static let defaultStackSize = 1024 * 1024
}

/// The bytes of stack left below the caller, on a coroutine's stack or a plain thread's.
public func remainingStack() -> Int {
    Int(oc_stack_remaining())
}

/// Runs `body` on the current stack when at least `redZone` bytes of it remain, else on a
/// fresh stack of `stackSize` bytes, and returns its result.
///
/// Works inside coroutines (which may suspend on the fresh stack) and on plain threads;
/// calls nest, so deep recursion can grow as far as memory allows:
///
/// ```swift
/// func depth(_ n: Int) -> Int {
///     n == 0 ? 0 : maybeGrowStack { depth(n - 1) + 1 }
/// }
/// ```
public func maybeGrowStack<Result, Failure: Error>(
    redZone: Int = StackGrowth.defaultRedZone,
    stackSize: Int = StackGrowth.defaultStackSize,
    _ body: () throws(Failure) -> Result
) throws(Failure) -> Result {
    guard remainingStack() < redZone, let stack = try? StackPool.takeShared(size: stackSize) else {
        return try body()
    }
    defer { StackPool.recycleShared(stack) }
    return try onStack(stack, body)
}

private func onStack<Result, Failure: Error>(
    _ stack: Stack,
    _ body: () throws(Failure) -> Result
) throws(Failure) -> Result {
    let frame = oc_frame_current()
    let outer = (frame.pointee.stack_low, frame.pointee.stack_high, frame.pointee.guard_low)
    frame.pointee.stack_low = UInt(bitPattern: stack.low)
    frame.pointee.stack_high = UInt(bitPattern: stack.high)
    frame.pointee.guard_low = UInt(bitPattern: stack.guardLow)
    defer {
        (frame.pointee.stack_low, frame.pointee.stack_high, frame.pointee.guard_low) = outer
    }
    var outcome: Swift.Result<Result, Failure>?
    withoutActuallyEscaping(body) { body in
        var call: () -> Void = { outcome = Swift.Result(catching: body) }
        withUnsafeMutablePointer(to: &call) { call in
            oc_call_on_stack(call, callClosure, stack.high)
        }
    }
    switch outcome {
    case .success(let value): return value
    case .failure(let error): throw error
    case nil: preconditionFailure("the closure run on a grown stack did not return")
    }
}

/// Calls the `() -> Void` its argument points at.
private let callClosure: @convention(c) (UnsafeMutableRawPointer?) -> Void = { pointer in
    // Sound: the only caller passes a pointer to a live `() -> Void`.
    pointer?.assumingMemoryBound(to: (() -> Void).self).pointee()
}
