import CCoroutineHook

/// The state of the hook library: whether its exports of libc's names route blocking calls
/// to the runtime.
public enum HookLibrary {
    /// Whether the hooks route calls to the runtime now.
    public static var isEnabled: Bool {
        oc_hook_enabled()
    }

    /// Why the library cannot interpose libc (checked when it was loaded), or nil when it can.
    public static var interpositionFailure: String? {
        oc_hook_failure().map { String(cString: $0) }
    }

    /// Switches hooking on or off.
    ///
    /// - Throws: `HookError.notInterposing` when asked to switch on while the library does not
    ///   interpose libc: hooking then stays off rather than catching only some calls.
    public static func setEnabled(_ enabled: Bool) throws(HookError) {
        guard oc_hook_set_enabled(enabled) == enabled else {
            throw .notInterposing(interpositionFailure ?? "unknown cause")
        }
    }
}

/// Why hooking cannot be switched on.
public enum HookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The hook library does not interpose libc; the message names the cause.
    case notInterposing(String)

    public var description: String {
        switch self {
        case .notInterposing(let cause): "hooking is off: \(cause)"
        }
    }
}
