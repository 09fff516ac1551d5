import CCoroutineCore
import Glibc

/// What the runtime knows about one descriptor number: whether it is a socket, the blocking
/// mode the user asked for, whether the runtime made it non-blocking in the kernel, and the
/// socket's receive and send timeouts.
///
/// The runtime keeps a socket non-blocking in the kernel from the first time a coroutine
/// blocks on it, for good: a blocking call then tries once and, on `EAGAIN`, waits on the
/// event loop (in a coroutine) or in `poll(2)` (on a plain thread), so the user still sees a
/// blocking socket. What the user asked for lives here, to answer `F_GETFL` truthfully and
/// to return `EAGAIN` at once where the user wanted it.
///
/// Entries live in a process-wide table (`oc_descriptor`, in C, read without locks). Each
/// has a generation, bumped whenever the number stops naming the same open file: event
/// loops tag their registrations with it, so a reused number never inherits a stale one.
struct Descriptor {
    /// The descriptor number.
    let fd: Int32
    private let entry: UnsafeMutablePointer<oc_descriptor>

    /// The entry for `fd`, nil for a number the table cannot hold (negative, or beyond its
    /// 4M capacity): such descriptors are treated as unknown, and calls go straight through.
    init?(_ fd: Int32) {
        guard let entry = oc_descriptor_get(fd) else { return nil }
        self.fd = fd
        self.entry = entry
    }

    /// The entry for `fd` if the table ever held its neighbourhood; never allocates.
    static func existing(_ fd: Int32) -> Descriptor? {
        guard let entry = oc_descriptor_peek(fd) else { return nil }
        return Descriptor(fd: fd, entry: entry)
    }

    private init(fd: Int32, entry: UnsafeMutablePointer<oc_descriptor>) {
        self.fd = fd
        self.entry = entry
    }

    /// The current generation of `fd`; 0 for numbers the table cannot hold.
    static func generation(of fd: Int32) -> UInt32 {
        existing(fd)?.generation ?? 0
    }

    var generation: UInt32 {
        oc_descriptor_generation(entry)
    }

    /// What the runtime recorded so far, without classifying.
    var recordedMode: Mode {
        Mode(rawValue: oc_descriptor_flags(entry))
    }

    /// What the runtime knows, classifying the descriptor first if this generation has not
    /// been classified yet.
    var mode: Mode {
        let recorded = recordedMode
        return recorded.contains(.known) ? recorded : classify()
    }

    /// Learns what the descriptor is (a socket, something else epoll can watch, or storage)
    /// and whether someone already made it non-blocking; a descriptor that is not open stays
    /// unknown.
    private func classify() -> Mode {
        var mode: Mode = .known
        switch oc_sys_file_kind(fd) {
        case OC_FILE_SOCKET: mode.insert(.socket)
        case OC_FILE_POLLABLE: mode.insert(.pollable)
        case OC_FILE_STORAGE: mode.insert(.storage)
        default: return []
        }
        let saved = errno
        defer { errno = saved }
        let status = oc_sys_fcntl(fd, F_GETFL, 0)
        guard status >= 0 else { return [] }
        if status & O_NONBLOCK != 0 {
            // A thread that classified this generation meanwhile records before it makes the
            // socket non-blocking for the runtime: the flag may be the runtime's, not the
            // user's, and that thread's record stands (taken for the user's, a blocking
            // socket's calls would answer EAGAIN for good).
            let recorded = recordedMode
            if recorded.contains(.known) { return recorded }
            mode.insert(.userNonBlocking)
        }
        guard mode.contains(.socket) else {
            oc_descriptor_add_flags(entry, mode.rawValue)
            return mode
        }
        var type: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        if oc_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0, type == Int32(SOCK_STREAM.rawValue) {
            mode.insert(.stream)
        }
        oc_descriptor_add_flags(entry, mode.rawValue)
        return mode
    }

    /// Records a descriptor the runtime just created (or that `dup` made): a new generation
    /// with `mode` and the given timeouts.
    func adopt(_ mode: Mode, receiveTimeout: UInt64 = 0, sendTimeout: UInt64 = 0) {
        invalidate()
        oc_descriptor_set_timeout(entry, true, receiveTimeout)
        oc_descriptor_set_timeout(entry, false, sendTimeout)
        oc_descriptor_set_flags(entry, mode.union(.known).rawValue)
    }

    /// Copies what is known about `source` (an open file `dup` shares) into this number, and
    /// puts both in one group when the table keeps the user's mode for it: the two share one
    /// open file description, so one O_NONBLOCK and, for a socket, one pair of timeouts.
    func adopt(sameFileAs source: Descriptor) {
        let mode = source.mode
        adopt(mode, receiveTimeout: source.timeout(.readable), sendTimeout: source.timeout(.writable))
        if !mode.isDisjoint(with: [.socket, .pollable]) {
            oc_descriptor_join_group(entry, oc_descriptor_share_group(source.entry))
        }
    }

    /// Ends the current generation: the number no longer names the file it named. Every
    /// coroutine waiting on it, on any thread, wakes with the wait `.closed`.
    func invalidate() {
        let loops = oc_descriptor_reset(entry)
        if loops != 0 {
            EventLoop.dropStaleRegistrations(of: fd, inSlots: loops)
        }
    }

    /// Records that the event loop in `slot` registered the descriptor.
    func registered(inSlot slot: Int) {
        oc_descriptor_add_loop(entry, UInt32(slot))
    }

    /// Makes the socket non-blocking in the kernel, once, so that a blocking call can wait
    /// for it on the event loop; false when the kernel refused (the call then blocks the
    /// thread, as libc's would).
    func makeNonBlockingForRuntime() -> Bool {
        let saved = errno
        defer { errno = saved }
        let status = oc_sys_fcntl(fd, F_GETFL, 0)
        guard status >= 0, oc_sys_fcntl(fd, F_SETFL, Int(status | O_NONBLOCK)) == 0 else { return false }
        oc_descriptor_add_flags(entry, Mode.runtimeNonBlocking.rawValue)
        // The copies' O_NONBLOCK changed with it: they must hide it too, and wait for it.
        forEachCopy { oc_descriptor_add_flags($0.entry, Mode.runtimeNonBlocking.rawValue) }
        return true
    }

    /// Whether the table keeps the user's blocking mode for this descriptor: the runtime's
    /// waits depend on it for sockets and streams.
    var recordsUserMode: Bool {
        !mode.isDisjoint(with: [.socket, .pollable])
    }

    /// Records the blocking mode the user asked for, on this number and its copies: the kernel
    /// keeps O_NONBLOCK in the open file description they share. A copy's next call sees the
    /// new mode; one already waiting waits on, as the kernel's socket calls do (they read the
    /// flag when they start).
    func setUserNonBlocking(_ nonBlocking: Bool) {
        set(.userNonBlocking, nonBlocking)
        forEachCopy { $0.set(.userNonBlocking, nonBlocking) }
    }

    /// Calls `body` with every other number in this one's group (see `adopt(sameFileAs:)`).
    /// A number never copied is in none, and costs no scan.
    private func forEachCopy(_ body: (Descriptor) -> Void) {
        let group = oc_descriptor_group(entry)
        guard group != 0 else { return }
        var copy = oc_descriptor_next_in_group(group, -1)
        while copy >= 0 {
            if copy != fd, let descriptor = Descriptor.existing(copy) {
                body(descriptor)
            }
            copy = oc_descriptor_next_in_group(group, copy)
        }
    }

    /// Records that a read emptied the receive queue.
    func noteDrained() {
        set(.drained, true)
    }

    /// Records that data may have arrived (a readable edge), and whether the peer ended its
    /// stream. The hang-up is recorded first: a read that marks the socket drained meanwhile
    /// then sees it (BlockingCall), or sees the drained mark cleared.
    func noteReadable(hungUp: Bool) {
        if hungUp { set(.hungUp, true) }
        set(.drained, false)
    }

    /// Sets or clears `flag`, with a locked instruction only when it changes: the drained mark
    /// flips on the read path and on every readable event.
    private func set(_ flag: Mode, _ on: Bool) {
        guard recordedMode.contains(flag) != on else { return }
        if on {
            oc_descriptor_add_flags(entry, flag.rawValue)
        } else {
            oc_descriptor_remove_flags(entry, flag.rawValue)
        }
    }

    /// SO_RCVTIMEO (`.readable`) or SO_SNDTIMEO (`.writable`) in nanoseconds: 0 for none,
    /// `.max` for "expire at once".
    func timeout(_ direction: FileEvents) -> UInt64 {
        oc_descriptor_timeout(entry, direction == .readable)
    }

    /// Records a timeout the kernel now holds for the socket, and so for every copy of it.
    func setTimeout(_ direction: FileEvents, nanoseconds: UInt64) {
        oc_descriptor_set_timeout(entry, direction == .readable, nanoseconds)
        forEachCopy { oc_descriptor_set_timeout($0.entry, direction == .readable, nanoseconds) }
    }

    /// The classification of a descriptor.
    struct Mode: OptionSet {
        let rawValue: UInt32

        static let known = Mode(rawValue: UInt32(OC_DESCRIPTOR_KNOWN.rawValue))
        static let socket = Mode(rawValue: UInt32(OC_DESCRIPTOR_SOCKET.rawValue))
        static let userNonBlocking = Mode(rawValue: UInt32(OC_DESCRIPTOR_USER_NONBLOCK.rawValue))
        static let runtimeNonBlocking = Mode(rawValue: UInt32(OC_DESCRIPTOR_RUNTIME_NONBLOCK.rawValue))
        static let stream = Mode(rawValue: UInt32(OC_DESCRIPTOR_STREAM.rawValue))
        static let drained = Mode(rawValue: UInt32(OC_DESCRIPTOR_DRAINED.rawValue))
        static let hungUp = Mode(rawValue: UInt32(OC_DESCRIPTOR_HUNG_UP.rawValue))
        static let pollable = Mode(rawValue: UInt32(OC_DESCRIPTOR_POLLABLE.rawValue))
        static let storage = Mode(rawValue: UInt32(OC_DESCRIPTOR_STORAGE.rawValue))

        /// The user sees a blocking socket that the kernel holds non-blocking: its blocking
        /// calls are the runtime's to wait for.
        var waitsForRuntime: Bool {
            contains(.runtimeNonBlocking) && !contains(.userNonBlocking)
        }
    }
}
