/// Why a channel operation failed.
public enum ChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The channel was closed before the element could be sent; the element was not sent.
    case closed

    public var description: String {
        switch self {
        case .closed: return "send on a closed channel"
        }
    }
}
