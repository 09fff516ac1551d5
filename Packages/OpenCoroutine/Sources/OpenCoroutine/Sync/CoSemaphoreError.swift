/// Why a semaphore cannot be created.
public enum CoSemaphoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A semaphore was asked to start with fewer than no permits.
    case negativeValue(Int)

    public var description: String {
        switch self {
        case .negativeValue(let value): return "a semaphore cannot start with \(value) permits"
        }
    }
}
