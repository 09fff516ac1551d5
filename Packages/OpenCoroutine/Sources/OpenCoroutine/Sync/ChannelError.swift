/// Why a channel operation failed.
public enum ChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The channel was closed before the element could be sent; the element was not sent.
    case closed
    /// A bounded channel was asked for with a negative capacity.
    case invalidCapacity(Int)

    public var description: String {
        switch self {
        case .closed: return "send on a closed channel"
        case .invalidCapacity(let capacity): return "a channel's capacity must be 0 (a rendezvous) or more, not \(capacity)"
        }
    }
}
