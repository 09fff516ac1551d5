import CCoroutineCore

/// What a suspended coroutine waits for, as `CoroutineRuntime.dump`, the crash report and the
/// debugger extension show it. A coroutine notes it in its own frame (`oc_wait`) right before
/// it suspends; nothing reads it to decide anything.
enum WaitReason {
    /// Its deadline.
    case sleep
    /// A descriptor to become ready.
    case descriptor(Int32, FileEvents)
    /// Any of several descriptors (poll, select, epoll_wait).
    case descriptors(count: Int)
    /// Another task, by id, to end.
    case join(taskID: UInt64)
    /// A lock, condition or other parking address.
    case lock(UnsafeRawPointer)
    /// A call the blocking pool runs on its behalf.
    case blockingPool
    /// A pool worker's wait for its next task.
    case idle
    /// Anything else: a channel, a wait group, an io_uring completion.
    case other

    /// Writes the reason into `frame`, with the wait's deadline and system call.
    func note(in frame: UnsafeMutablePointer<oc_frame>, deadline: UInt64?, call: String?) {
        let (kind, fd, events, target): (oc_wait_kind, Int32, FileEvents, UInt64) = switch self {
        case .sleep: (OC_WAIT_SLEEP, -1, [], 0)
        case .descriptor(let fd, let events): (OC_WAIT_DESCRIPTOR, fd, events, 0)
        case .descriptors(let count): (OC_WAIT_DESCRIPTORS, -1, [], UInt64(count))
        case .join(let id): (OC_WAIT_JOIN, -1, [], id)
        case .lock(let address): (OC_WAIT_LOCK, -1, [], UInt64(UInt(bitPattern: address)))
        case .blockingPool: (OC_WAIT_BLOCKING_POOL, -1, [], 0)
        case .idle: (OC_WAIT_IDLE, -1, [], 0)
        case .other: (OC_WAIT_OTHER, -1, [], 0)
        }
        let until = deadline ?? 0
        if let call {
            call.withCString { oc_frame_note_wait(frame, UInt8(kind.rawValue), fd, UInt8(events.rawValue), target, until, $0) }
        } else {
            oc_frame_note_wait(frame, UInt8(kind.rawValue), fd, UInt8(events.rawValue), target, until, nil)
        }
    }
}
