// The dump: every coroutine of the process, its state and where it stands.
//
// Coroutine frames are listed process-wide from their first run until their stack goes back
// to the pool (frame_registry.c, `oc_frames_register`); each suspended coroutine noted what it waits
// for in its frame before it switched out (`WaitReason`). A dump walks that list under its
// lock, copying each frame's identity and wait and, for a suspended coroutine, the return
// addresses of its frame-pointer chain, read from the context its switch saved and bounded
// by its stack. Symbolication (the Swift runtime's own symbolicator, demangled names and
// source lines) happens after the lock is released.
//
// A running coroutine's stack changes under the reader, so only the coroutine that asks for
// the dump shows its own backtrace among the running ones. A suspended coroutine may be
// resumed while the walk reads it: its backtrace is then a mix of two moments, never a read
// outside its stack.

import CCoroutineCore
import Glibc
@_spi(Internal) import Runtime

/// One coroutine as a dump saw it.
public struct CoroutineSnapshot: Sendable, CustomStringConvertible {
    /// What the coroutine was doing.
    public enum State: Sendable, Equatable, CustomStringConvertible {
        /// Running on a scheduler thread.
        case running
        /// Ready to run, waiting for its thread.
        case ready
        /// Sleeping; `wakesIn` is what was left of the sleep, nil without a deadline.
        case sleeping(wakesIn: Duration?)
        /// Waiting for a descriptor to become readable or writable, in `call`.
        case waitingForDescriptor(Int32, readable: Bool, writable: Bool, call: String?)
        /// Waiting for any of `count` descriptors (poll, select, epoll_wait), in `call`.
        case waitingForDescriptors(count: Int, call: String?)
        /// Waiting for the task `taskID` to end.
        case joining(taskID: UInt64)
        /// Parked on a lock, condition or other address.
        case parked(address: UInt)
        /// Waiting for a call the blocking pool runs for it.
        case inBlockingPool(call: String?)
        /// A pool worker waiting for its next task.
        case idle
        /// Waiting to be woken by something else (a channel, a wait group, an io_uring
        /// completion), in `call` if any.
        case waiting(call: String?)

        /// The state as the dump prints it.
        public var description: String {
            switch self {
            case .running: return "running"
            case .ready: return "ready to run"
            case .sleeping(let left):
                return left.map { "sleeping, wakes in \(format($0))" } ?? "sleeping"
            case .waitingForDescriptor(let fd, let readable, let writable, let call):
                let direction = [readable ? "readable" : nil, writable ? "writable" : nil].compactMap { $0 }
                return "waiting for fd \(fd) to be \(direction.joined(separator: " or "))" + inCall(call)
            case .waitingForDescriptors(let count, let call):
                return "waiting for any of \(count) descriptors" + inCall(call)
            case .joining(let id): return "joining task #\(id)"
            case .parked(let address): return "parked on lock 0x\(String(address, radix: 16))"
            case .inBlockingPool(let call): return "in the blocking pool" + inCall(call)
            case .idle: return "idle worker"
            case .waiting(let call): return "waiting to be woken" + inCall(call)
            }
        }

        private func inCall(_ call: String?) -> String {
            call.map { " (in \($0))" } ?? ""
        }
    }

    /// One frame of a backtrace.
    public struct Frame: Sendable, CustomStringConvertible {
        /// The return address (or, for the innermost frame, the program counter).
        public let address: UInt
        /// The demangled function name, when the symbolicator found one.
        public let function: String?
        /// `file:line`, when the binary has line tables.
        public let location: String?

        /// `function at file:line`, or the address when the function is unknown.
        public var description: String {
            let name = function ?? "0x\(String(address, radix: 16))"
            return location.map { "\(name) at \($0)" } ?? name
        }
    }

    /// The task's id; nil for a coroutine that runs no task.
    public let taskID: UInt64?
    /// The task's name, when it has one.
    public let name: String?
    /// What it was doing.
    public let state: State
    /// How long it had been in that state, to within a kernel tick (the wait records its start
    /// with the coarse clock); nil when unknown (running, ready).
    public let stateDuration: Duration?
    /// Where it stood, innermost first; empty for a coroutine running on another thread.
    public let backtrace: [Frame]

    /// The task line, then the backtrace one frame a line.
    public var description: String {
        var line = taskID.map { "task #\($0)" } ?? "coroutine"
        if let name { line += " \"\(name)\"" }
        line += ": \(state)"
        if let stateDuration { line += ", for \(format(stateDuration))" }
        return ([line] + backtrace.enumerated().map { "    \($0.offset) \($0.element)" }).joined(separator: "\n")
    }
}

/// A duration as a person reads it: "1.52 s", "340 ms", "12 µs".
private func format(_ duration: Duration) -> String {
    let nanoseconds = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
    switch nanoseconds {
    case 1e9...: return "\((nanoseconds / 1e7).rounded() / 100) s"
    case 1e6...: return "\(Int((nanoseconds / 1e6).rounded())) ms"
    default: return "\(Int((nanoseconds / 1e3).rounded())) µs"
    }
}

/// Every coroutine of the process, on demand.
public enum CoroutineDump {
    /// The most return addresses kept per coroutine.
    static let depthLimit = 48

    /// What the walk copies out of one frame while the list is locked.
    private struct RawCoroutine {
        var taskID: UInt64
        var name: String?
        var wait: oc_wait
        var running: Bool
        var isCaller: Bool
        var addresses: [UInt]
    }

    /// The coroutines of the process as they are now. Idle pool workers are left out unless
    /// `includingIdle`.
    public static func snapshot(includingIdle: Bool = false) -> [CoroutineSnapshot] {
        let raw = collect()
        let now = monotonicNanoseconds()
        let images = ImageMap.capture()
        return raw.compactMap { coroutine in
            let state = state(of: coroutine, now: now)
            if state == .idle && !includingIdle { return nil }
            let since = coroutine.wait.kind == UInt8(OC_WAIT_NONE.rawValue) ? nil : coroutine.wait.since_ns
            return CoroutineSnapshot(
                taskID: coroutine.taskID == 0 ? nil : coroutine.taskID,
                name: coroutine.name,
                state: state,
                stateDuration: since.map { .nanoseconds(Int64(clamping: now &- min($0, now))) },
                backtrace: symbolicate(coroutine.addresses, images: images))
        }
    }

    /// Writes every coroutine of the process to `target`: a header, then each coroutine's
    /// task, state, time in that state and backtrace (see `snapshot`).
    public static func dump<Target: TextOutputStream>(to target: inout Target, includingIdle: Bool = false) {
        let coroutines = snapshot(includingIdle: includingIdle)
        target.write("OpenCoroutine: \(coroutines.count) coroutine\(coroutines.count == 1 ? "" : "s")\n")
        for coroutine in coroutines {
            target.write("\n\(coroutine)\n")
        }
    }

    /// Writes the dump to standard error in one piece (what the dump signal and the crash
    /// report print).
    public static func dumpToStandardError(includingIdle: Bool = false) {
        var text = ""
        dump(to: &text, includingIdle: includingIdle)
        writeAll(STDERR_FILENO, text)
    }

    /// Where a coroutine stuck in a system call stands, found from the program counter and
    /// stack pointer its thread's /proc/self/task/TID/syscall shows
    /// (`oc_frame_walk_from_stack_pointer`): the program counter, then return addresses; empty
    /// when the stack pointer is outside the coroutine's stack [`low`, `high`) (the coroutine
    /// switched meanwhile). Quick: it copies words; `symbolicate` names them later.
    static func walk(
        fromStackPointer stackPointer: UInt, programCounter: UInt, inStack low: UInt, _ high: UInt
    ) -> [UInt] {
        guard stackPointer >= low, stackPointer < high else { return [] }
        var addresses = [UInt](repeating: 0, count: depthLimit)
        let count = addresses.withUnsafeMutableBufferPointer { buffer in
            Int(oc_frame_walk_from_stack_pointer(
                getpid(), programCounter, stackPointer, high, buffer.baseAddress!, Int32(buffer.count)))
        }
        return Array(addresses.prefix(count))
    }

    /// Names the functions of `addresses` (from `walk`) in the images loaded now.
    static func symbolicate(_ addresses: [UInt]) -> [CoroutineSnapshot.Frame] {
        symbolicate(addresses, images: ImageMap.capture())
    }

    private static func collect() -> [RawCoroutine] {
        final class Box {
            var coroutines: [RawCoroutine] = []
            let caller = oc_frame_peek()
            let callerFramePointer = UInt(bitPattern: oc_frame_pointer())
        }
        let box = Box()
        box.coroutines.reserveCapacity(64)
        withExtendedLifetime(box) {
            oc_frames_each({ frame, context in
                // Sound: `context` is the box passed below, alive for the whole walk.
                let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
                box.coroutines.append(CoroutineDump.copy(frame, isCaller: frame == UnsafePointer(box.caller),
                                                         callerFramePointer: box.callerFramePointer))
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        return box.coroutines
    }

    /// Copies what a dump shows of `frame`; called with the list locked.
    private static func copy(_ frame: UnsafePointer<oc_frame>, isCaller: Bool, callerFramePointer: UInt) -> RawCoroutine {
        let running = frame.pointee.is_running != 0
        var addresses = [UInt](repeating: 0, count: depthLimit)
        var count = 0
        if isCaller {
            count = addresses.withUnsafeMutableBufferPointer { buffer in
                Int(oc_frame_walk(callerFramePointer, frame.pointee.stack_low, frame.pointee.stack_high,
                                  buffer.baseAddress!, Int32(buffer.count)))
            }
        } else if !running {
            var pc: UInt = 0
            var fp: UInt = 0
            oc_frame_saved_registers(frame, &pc, &fp)
            if pc != 0 {
                addresses[0] = pc
                count = 1 + addresses.withUnsafeMutableBufferPointer { buffer in
                    Int(oc_frame_walk(fp, frame.pointee.stack_low, frame.pointee.stack_high,
                                      buffer.baseAddress! + 1, Int32(buffer.count - 1)))
                }
            }
        }
        return RawCoroutine(
            taskID: oc_frame_task_id(frame),
            name: oc_frame_task_name(frame).map { String(cString: $0) },
            wait: frame.pointee.wait,
            running: running,
            isCaller: isCaller,
            addresses: Array(addresses.prefix(count)))
    }

    private static func state(of coroutine: RawCoroutine, now: UInt64) -> CoroutineSnapshot.State {
        if coroutine.running { return .running }
        let wait = coroutine.wait
        let call = withUnsafeBytes(of: wait.call) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        let named = call.isEmpty ? nil : call
        switch oc_wait_kind(UInt32(wait.kind)) {
        case OC_WAIT_SLEEP:
            return .sleeping(wakesIn: wait.deadline_ns == 0 ? nil : .nanoseconds(Int64(clamping: wait.deadline_ns &- min(wait.deadline_ns, now))))
        case OC_WAIT_DESCRIPTOR:
            let events = FileEvents(rawValue: UInt32(wait.events))
            return .waitingForDescriptor(wait.fd, readable: events.contains(.readable), writable: events.contains(.writable), call: named)
        case OC_WAIT_DESCRIPTORS: return .waitingForDescriptors(count: Int(wait.target), call: named)
        case OC_WAIT_JOIN: return .joining(taskID: wait.target)
        case OC_WAIT_LOCK: return .parked(address: UInt(wait.target))
        case OC_WAIT_BLOCKING_POOL: return .inBlockingPool(call: named)
        case OC_WAIT_IDLE: return .idle
        case OC_WAIT_OTHER: return .waiting(call: named)
        default: return .ready
        }
    }

    /// Names the functions of `addresses` (a program counter, then return addresses) with the
    /// Swift runtime's symbolicator.
    private static func symbolicate(_ addresses: [UInt], images: ImageMap) -> [CoroutineSnapshot.Frame] {
        guard !addresses.isEmpty else { return [] }
        let frames = addresses.enumerated().map { index, address in
            index == 0 ? RichFrame<UInt>.programCounter(address) : .returnAddress(address)
        }
        let symbolicated = Backtrace(architecture: architecture, frames: frames, images: images)
            .symbolicated(with: images, options: [.showSourceLocations, .useSymbolCache])
        guard let symbolicated else {
            return addresses.map { CoroutineSnapshot.Frame(address: $0, function: nil, location: nil) }
        }
        return zip(addresses, symbolicated.frames.filter { !$0.inlined }).map { address, frame in
            let location = frame.symbol?.sourceLocation.map { "\($0.path):\($0.line)" }
            return CoroutineSnapshot.Frame(address: address, function: frame.symbol?.name, location: location)
        }
    }

    #if arch(x86_64)
    private static let architecture = "x86_64"
    #else
    private static let architecture = "arm64"
    #endif
}

/// Writes all of `text` to `fd`, retrying short writes.
func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = oc_sys_write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else {
                if written < 0 && errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
