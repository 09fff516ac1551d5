import CCoroutineCore
import Glibc

// Calls that move data between two descriptors, or many messages at once, on sockets the
// runtime holds non-blocking for a user who sees them blocking (BlockingCall.swift).

extension Syscall {
    /// `sendfile(2)`: to a blocking socket, sends everything, waiting for room as `write`
    /// does; in a coroutine, to anything else, on the blocking pool (the file side may wait
    /// for the disk).
    public static func sendfile(_ out: Int32, _ input: Int32, _ offset: UnsafeMutablePointer<off_t>?, _ count: Int) -> Int {
        if Descriptor(out)?.mode.contains(.socket) == true {
            return blockingAll(out, .writable, "sendfile", total: count) { done in
                oc_sys_sendfile(out, input, offset, count - done)
            }
        }
        return runOnBlockingPool("sendfile") { oc_sys_sendfile(out, input, offset, count) }
    }

    /// `splice(2)`: with a blocking socket on either side, waits for it (the input to have
    /// data, the output to have room) as `read` and `write` do; in a coroutine, between
    /// anything else, on the blocking pool.
    public static func splice(
        _ input: Int32, _ inputOffset: UnsafeMutablePointer<Int64>?, _ out: Int32,
        _ outputOffset: UnsafeMutablePointer<Int64>?, _ count: Int, _ flags: UInt32
    ) -> Int {
        let move = { oc_sys_splice(input, inputOffset, out, outputOffset, count, flags) }
        if let socket = prepareSocket(input) {
            return blocking(socket, .readable, "splice", move)
        }
        if let socket = prepareSocket(out) {
            return blocking(socket, .writable, "splice", move)
        }
        return runOnBlockingPool("splice", move)
    }

    /// The size of `struct mmsghdr`: a `msghdr` and the count received or sent, padded.
    private static let mmsghdrSize = (MemoryLayout<msghdr>.stride + MemoryLayout<UInt32>.size + 7) & ~7

    /// The socket `fd`, made ready for the runtime's waits, or nil when it is not one.
    private static func prepareSocket(_ fd: Int32) -> Int32? {
        preparedSocket(fd) != nil ? fd : nil
    }

    /// `recvmmsg(2)`: on a blocking socket, waits until a first message is there; the kernel
    /// then takes what else is queued, as a blocking call does with `MSG_WAITFORONE`.
    /// `messages` points at `count` `struct mmsghdr` (which Swift's view of glibc lacks).
    public static func recvmmsg(
        _ fd: Int32, _ messages: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32,
        _ timeout: UnsafeMutablePointer<timespec>?
    ) -> Int32 {
        let dontWait = flags & Int32(MSG_DONTWAIT) != 0
        return Int32(blocking(fd, .readable, "recvmmsg", dontWait: dontWait) {
            Int(oc_sys_recvmmsg(fd, messages, count, flags, timeout))
        })
    }

    /// `sendmmsg(2)`: on a blocking socket, sends every message, waiting for room as often
    /// as needed; fewer only when an error follows some progress, as a blocking call does.
    public static func sendmmsg(_ fd: Int32, _ messages: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32) -> Int32 {
        let dontWait = flags & Int32(MSG_DONTWAIT) != 0
        var sent: UInt32 = 0
        repeat {
            let result = blocking(fd, .writable, "sendmmsg", dontWait: dontWait) {
                Int(oc_sys_sendmmsg(fd, messages.map { $0 + Int(sent) * mmsghdrSize }, count - sent, flags))
            }
            guard result > 0 else { return result < 0 && sent == 0 ? -1 : Int32(sent) }
            sent += UInt32(result)
        } while sent < count && !dontWait && Descriptor.existing(fd)?.mode.waitsForRuntime == true
        return Int32(sent)
    }
}
