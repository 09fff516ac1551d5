import CoroutineCore
/// A sequence whose elements are produced by ordinary code that calls `yield`,
/// however deep in its call stack: the producer runs in a coroutine and suspends at
/// each element until the consumer asks for the next.
///
/// ```swift
/// let squares = Generator<Int> { yield in
///     for n in 1...3 { try yield(n * n) }
/// }
/// Array(squares)   // [1, 4, 9]
/// ```
///
/// Iteration ends when the producer returns. A generator dropped before its end cancels
/// the producer: the pending `yield` throws `CoroutineError.cancelled`, which the producer
/// passes on, so everything on its stack is released.
public struct Generator<Element>: Sequence, IteratorProtocol {
    /// Hands one element to the consumer and waits until the next one is wanted.
    public typealias Yield = (Element) throws(CoroutineError) -> Void

    private let coroutine: Coroutine<Void, Element, Void>

    /// Creates a generator whose elements are produced by `producer`.
    public init(stackSize: Int = StackSize.default, _ producer: @escaping (Yield) throws(CoroutineError) -> Void) {
        coroutine = Coroutine(name: "generator", stackSize: stackSize) { suspender, _ in
            try producer { element throws(CoroutineError) in try suspender.suspend(with: element) }
        }
    }

    /// The next element, or nil once the producer has returned.
    public mutating func next() -> Element? {
        guard case .yielded(let element) = try? coroutine.resume() else { return nil }
        return element
    }
}
