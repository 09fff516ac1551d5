import Foundation
import Glibc
import Synchronization

private let stream = streamSocket
private let nonBlockingSocket = Int32(SOCK_NONBLOCK.rawValue)
private let noSignal = Int32(MSG_NOSIGNAL)

extension DescriptorScenario {
    /// Every scenario: bad descriptors, a connected pair, TCP, the user's non-blocking modes,
    /// timeouts, whole writes, vector reads, the dup family, ppoll and pselect, and files.
    public static let all: [DescriptorScenario] = [
        DescriptorScenario(name: "bad descriptors") { calls, transcript in
            var byte: UInt8 = 0
            var length = socklen_t(4)
            var vector = iovec(iov_base: nil, iov_len: 0)
            var message = msghdr()
            for fd in [-1, neverOpen] {
                transcript.note("read \(fd)", calls.read(fd, &byte, 1))
                transcript.note("write \(fd)", calls.write(fd, &byte, 1))
                transcript.note("readv \(fd)", calls.readv(fd, &vector, 1))
                transcript.note("writev \(fd)", calls.writev(fd, &vector, 1))
                transcript.note("recv \(fd)", calls.recv(fd, &byte, 1, 0))
                transcript.note("send \(fd)", calls.send(fd, &byte, 1, noSignal))
                transcript.note("recvmsg \(fd)", calls.recvmsg(fd, &message, 0))
                transcript.note("sendmsg \(fd)", calls.sendmsg(fd, &message, noSignal))
                transcript.note("pread \(fd)", calls.pread(fd, &byte, 1, 0))
                transcript.note("pwrite \(fd)", calls.pwrite(fd, &byte, 1, 0))
                transcript.note("accept \(fd)", calls.accept(fd, nil, nil))
                transcript.note("listen \(fd)", calls.listen(fd, 1))
                transcript.note("shutdown \(fd)", calls.shutdown(fd, Int32(SHUT_RDWR)))
                transcript.note("fcntl \(fd)", calls.fcntl(fd, F_GETFL, 0))
                transcript.note("ioctl \(fd)", calls.ioctl(fd, UInt(FIONBIO), &length))
                var type: Int32 = 0
                transcript.note("getsockopt \(fd)", calls.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length))
                transcript.note("dup \(fd)", calls.dup(fd))
                transcript.note("dup2 \(fd)", calls.dup2(fd, fd))
                transcript.note("close \(fd)", calls.close(fd))
            }
            transcript.note("socket with a bad type", calls.socket(AF_INET, 12_345, 0))
            transcript.note("socket with a bad family", calls.socket(12_345, stream, 0))
            transcript.note("socketpair without room for the pair", calls.socketpair(AF_UNIX, stream, 0, nil))
        },
        DescriptorScenario(name: "reading and writing a connected pair") { calls, transcript in
            let (left, right) = try calls.pair()
            transcript.note("write", calls.write(left, "hello"))
            transcript.read("read", calls.read(right))
            transcript.note("zero-length write", calls.write(left, nil, 0))
            calls.write(left, "x")
            transcript.note("zero-length read with data waiting", calls.read(right, nil, 0))
            transcript.read("read the data", calls.read(right))
            later(.milliseconds(30)) { calls.write(left, "late") }
            transcript.read("read that waits for the writer", calls.read(right))
            transcript.note("shutdown", calls.shutdown(left, Int32(SHUT_WR)))
            transcript.read("read after the peer shut down", calls.read(right))
            transcript.note("close", calls.close(left))
            var byte: UInt8 = 1
            transcript.note("send to a closed peer", calls.send(right, &byte, 1, noSignal))
            transcript.note("close", calls.close(right))
        },
        DescriptorScenario(name: "TCP: listen, connect, accept") { calls, transcript in
            let (listener, address) = try calls.listener()
            transcript.read("read a listening socket", calls.read(listener))
            var byte: UInt8 = 1
            transcript.note("send on a listening socket", calls.send(listener, &byte, 1, noSignal))
            transcript.note("accept4 with bad flags", calls.accept4(listener, nil, nil, 0x7fff_0000))
            let client = transcript.descriptor("socket", calls.socket(AF_INET, stream, 0))
            transcript.note("connect", calls.connect(client, to: address))
            transcript.note("connect again", calls.connect(client, to: address))
            var peer = sockaddr_in()
            var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let server = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { calls.accept(listener, $0, &peerLength) }
            }
            transcript.descriptor("accept", server)
            transcript.fact("peer address length", peerLength)
            transcript.fact("peer address", String(cString: inet_ntoa(peer.sin_addr)))
            transcript.note("send", calls.send(client, "ping", 4, 0))
            transcript.read("read", calls.read(server))
            later(.milliseconds(20)) { _ = calls.connect(calls.socket(AF_INET, stream, 0), to: address) }
            let waited = transcript.descriptor("accept that waits", calls.accept4(listener, nil, nil, Int32(SOCK_CLOEXEC.rawValue)))
            transcript.fact("accepted close-on-exec", calls.fcntl(waited, F_GETFD, 0) & FD_CLOEXEC)
            transcript.note("accept on a connected socket", calls.accept(client, nil, nil))
            transcript.note("listen on a connected socket", calls.listen(client, 1))
            for fd in [client, server, waited] {
                _ = calls.close(fd)
            }
            _ = calls.close(listener)
            let refused = transcript.descriptor("socket", calls.socket(AF_INET, stream, 0))
            transcript.note("connect to a closed port", calls.connect(refused, to: address))
            transcript.note("close", calls.close(refused))
        },
        DescriptorScenario(name: "non-blocking modes the user asked for") { calls, transcript in
            let (left, right) = try calls.pair()
            transcript.fact("F_GETFL non-blocking at first", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            let status = calls.fcntl(left, F_GETFL, 0)
            transcript.note("F_SETFL O_NONBLOCK", calls.fcntl(left, F_SETFL, Int(status | O_NONBLOCK)))
            transcript.fact("F_GETFL non-blocking", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            transcript.read("read", calls.read(left))
            transcript.note("F_SETFL blocking", calls.fcntl(left, F_SETFL, Int(status)))
            transcript.fact("F_GETFL non-blocking after clearing", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            var on: Int32 = 1
            var off: Int32 = 0
            transcript.note("FIONBIO on", calls.ioctl(left, UInt(FIONBIO), &on))
            transcript.fact("F_GETFL non-blocking after FIONBIO", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            transcript.read("read", calls.read(left))
            transcript.note("FIONBIO off", calls.ioctl(left, UInt(FIONBIO), &off))
            transcript.fact("F_GETFL non-blocking after FIONBIO off", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            transcript.note("FIONBIO without an argument", calls.ioctl(left, UInt(FIONBIO), nil))
            var byte: UInt8 = 0
            transcript.note("recv MSG_DONTWAIT", calls.recv(left, &byte, 1, Int32(MSG_DONTWAIT)))
            later(.milliseconds(20)) { calls.write(right, "!") }
            transcript.read("blocking read again", calls.read(left))
            let created = transcript.descriptor("socket SOCK_NONBLOCK", calls.socket(AF_INET, stream | nonBlockingSocket, 0))
            transcript.fact("F_GETFL non-blocking", calls.fcntl(created, F_GETFL, 0) & O_NONBLOCK)
            transcript.read("read an unconnected non-blocking socket", calls.read(created))
            for fd in [left, right, created] {
                _ = calls.close(fd)
            }
        },
        DescriptorScenario(name: "receive and send timeouts") { calls, transcript in
            let (left, right) = try calls.pair()
            func setTimeout(_ name: Int32, seconds: Int, microseconds: Int) -> Int32 {
                var time = timeval(tv_sec: seconds, tv_usec: microseconds)
                return calls.setsockopt(left, SOL_SOCKET, name, &time, socklen_t(MemoryLayout<timeval>.size))
            }
            transcript.note("SO_RCVTIMEO 50 ms", setTimeout(SO_RCVTIMEO, seconds: 0, microseconds: 50_000))
            var time = timeval()
            var length = socklen_t(MemoryLayout<timeval>.size)
            transcript.note("getsockopt SO_RCVTIMEO", calls.getsockopt(left, SOL_SOCKET, SO_RCVTIMEO, &time, &length))
            transcript.fact("timeout", "\(time.tv_sec) s \(time.tv_usec) us")
            let (timedOut, waited) = timed { calls.read(left) }
            transcript.read("read times out", timedOut)
            transcript.fact("waited at least 40 ms", waited >= .milliseconds(40))
            transcript.note("SO_RCVTIMEO none", setTimeout(SO_RCVTIMEO, seconds: 0, microseconds: 0))
            later(.milliseconds(80)) { calls.write(right, "late") }
            transcript.read("read without a timeout waits", calls.read(left))
            transcript.note("SO_RCVTIMEO 20 ms", setTimeout(SO_RCVTIMEO, seconds: 0, microseconds: 20_000))
            transcript.read("read times out again", calls.read(left))
            transcript.note("SO_RCVTIMEO out of range", setTimeout(SO_RCVTIMEO, seconds: 0, microseconds: 2_000_000))
            transcript.note("SO_RCVTIMEO too short", calls.setsockopt(left, SOL_SOCKET, SO_RCVTIMEO, &time, 3))
            transcript.note("SO_RCVTIMEO negative", setTimeout(SO_RCVTIMEO, seconds: -1, microseconds: 0))
            let (immediate, immediateWait) = timed { calls.read(left) }
            transcript.read("read with a negative timeout", immediate)
            transcript.fact("returned within 20 ms", immediateWait < .milliseconds(20))
            transcript.note("SO_SNDTIMEO 50 ms", setTimeout(SO_SNDTIMEO, seconds: 0, microseconds: 50_000))
            let large = [UInt8](repeating: 7, count: 16 << 20)
            let written = large.withUnsafeBytes { calls.write(left, $0.baseAddress, $0.count) }
            transcript.fact("a write into a full socket writes part, then times out", written > 0 && written < large.count)
            _ = calls.close(left)
            _ = calls.close(right)
            let (listener, _) = try calls.listener()
            var short = timeval(tv_sec: 0, tv_usec: 30_000)
            _ = calls.setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &short, socklen_t(MemoryLayout<timeval>.size))
            transcript.note("accept times out", calls.accept(listener, nil, nil))
            _ = calls.close(listener)
        },
        DescriptorScenario(name: "whole writes and vectors") { calls, transcript in
            let (left, right) = try calls.pair()
            let size = 3 << 20
            let received = Mutex<[UInt8]>([])
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                var total: [UInt8] = []
                while total.count < 4 * size {
                    let count = buffer.withUnsafeMutableBytes { calls.read(right, $0.baseAddress, $0.count) }
                    guard count > 0 else { break }
                    total += buffer[..<count]
                }
                received.withLock { $0 = total }
                done.signal()
            }
            let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            data.withUnsafeBytes { bytes in
                let base = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
                transcript.note("write", calls.write(left, base, size))
                let third = size / 3
                var vectors = [iovec(iov_base: base, iov_len: third), iovec(iov_base: base.map { $0 + third }, iov_len: third),
                               iovec(iov_base: base.map { $0 + 2 * third }, iov_len: size - 2 * third)]
                transcript.note("writev", calls.writev(left, &vectors, 3))
                var message = msghdr()
                vectors.withUnsafeMutableBufferPointer { buffer in
                    message.msg_iov = buffer.baseAddress
                    message.msg_iovlen = buffer.count
                    transcript.note("sendmsg", calls.sendmsg(left, &message, 0))
                }
                transcript.note("send", calls.send(left, base, size, 0))
            }
            _ = calls.close(left)
            done.wait()
            transcript.fact("every byte arrived in order", received.withLock { $0 } == data + data + data + data)
            _ = calls.close(right)
        },
        DescriptorScenario(name: "vector reads, MSG_WAITALL and recvmsg") { calls, transcript in
            let (left, right) = try calls.pair()
            calls.write(left, "abcdefgh")
            var first = [UInt8](repeating: 0, count: 3)
            var second = [UInt8](repeating: 0, count: 3)
            first.withUnsafeMutableBytes { one in
                second.withUnsafeMutableBytes { two in
                    var vectors = [iovec(iov_base: one.baseAddress, iov_len: 3), iovec(iov_base: two.baseAddress, iov_len: 3)]
                    transcript.note("readv", calls.readv(right, &vectors, 2))
                }
            }
            transcript.fact("readv data", String(decoding: first + second, as: UTF8.self))
            transcript.read("the rest", calls.read(right))
            later(.milliseconds(10)) {
                calls.write(left, "12345")
                usleep(20_000)
                calls.write(left, "67890")
            }
            var buffer = [UInt8](repeating: 0, count: 10)
            transcript.note("recv MSG_WAITALL", buffer.withUnsafeMutableBytes { calls.recv(right, $0.baseAddress, 10, Int32(MSG_WAITALL)) })
            transcript.fact("data", String(decoding: buffer, as: UTF8.self))
            calls.write(left, "message")
            var message = msghdr()
            let count = buffer.withUnsafeMutableBytes { bytes in
                var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
                message.msg_iov = withUnsafeMutablePointer(to: &vector) { $0 }
                message.msg_iovlen = 1
                return calls.recvmsg(right, &message, 0)
            }
            transcript.note("recvmsg", count)
            transcript.fact("recvmsg data", String(decoding: buffer[..<max(count, 0)], as: UTF8.self))
            var sender = sockaddr_storage()
            var senderLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            calls.write(left, "from")
            let got = withUnsafeMutablePointer(to: &sender) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { calls.recvfrom(right, &buffer, 10, 0, $0, &senderLength) }
            }
            transcript.note("recvfrom", got)
            _ = calls.close(left)
            _ = calls.close(right)
        },
        DescriptorScenario(name: "dup, dup2, dup3 and F_DUPFD") { calls, transcript in
            let (left, right) = try calls.pair()
            let copy = transcript.descriptor("dup", calls.dup(left))
            transcript.fact("copy F_GETFL non-blocking", calls.fcntl(copy, F_GETFL, 0) & O_NONBLOCK)
            calls.write(copy, "via copy")
            transcript.read("read what the copy wrote", calls.read(right))
            transcript.fact("dup2 onto itself returns the number", calls.dup2(left, left) == left)
            transcript.fact("dup2 onto the copy returns the copy", calls.dup2(right, copy) == copy)
            transcript.note("dup2 from a bad descriptor", calls.dup2(neverOpen, copy))
            transcript.note("dup3 onto itself", calls.dup3(left, left, 0))
            transcript.note("dup3 with bad flags", calls.dup3(left, copy, 12_345))
            transcript.fact("dup3 O_CLOEXEC returns the copy", calls.dup3(left, copy, O_CLOEXEC) == copy)
            transcript.fact("close-on-exec", calls.fcntl(copy, F_GETFD, 0) & FD_CLOEXEC)
            let duplicate = transcript.descriptor("F_DUPFD_CLOEXEC", calls.fcntl(left, F_DUPFD_CLOEXEC, 0))
            transcript.fact("duplicate close-on-exec", calls.fcntl(duplicate, F_GETFD, 0) & FD_CLOEXEC)
            transcript.note("fcntl with a bad command", calls.fcntl(left, 12_345, 0))
            for fd in [left, right, copy, duplicate] {
                _ = calls.close(fd)
            }
        },
        DescriptorScenario(name: "copies share the non-blocking mode of their open file") { calls, transcript in
            // O_NONBLOCK lives in the open file description, which dup and its family share.
            let (left, right) = try calls.pair()
            let copy = transcript.descriptor("dup", calls.dup(left))
            let status = calls.fcntl(copy, F_GETFL, 0)
            transcript.note("F_SETFL O_NONBLOCK on the copy", calls.fcntl(copy, F_SETFL, Int(status | O_NONBLOCK)))
            transcript.fact("original F_GETFL non-blocking", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            transcript.read("read the original", calls.read(left))
            transcript.note("F_SETFL blocking on the original", calls.fcntl(left, F_SETFL, Int(status)))
            transcript.fact("copy F_GETFL non-blocking", calls.fcntl(copy, F_GETFL, 0) & O_NONBLOCK)
            var on: Int32 = 1
            var off: Int32 = 0
            transcript.note("FIONBIO on the copy", calls.ioctl(copy, UInt(FIONBIO), &on))
            transcript.fact("original F_GETFL non-blocking after FIONBIO", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            transcript.read("read the original after FIONBIO", calls.read(left))
            transcript.note("close the copy", calls.close(copy))
            transcript.fact("original F_GETFL non-blocking after the close", calls.fcntl(left, F_GETFL, 0) & O_NONBLOCK)
            transcript.read("read the original after the close", calls.read(left))
            transcript.note("FIONBIO off on the original", calls.ioctl(left, UInt(FIONBIO), &off))
            let second = transcript.descriptor("dup again", calls.dup(left))
            later(.milliseconds(20)) { calls.write(right, "!") }
            transcript.read("blocking read on the new copy", calls.read(second))
            // A timeout belongs to the socket, which the copies share too.
            var short = timeval(tv_sec: 0, tv_usec: 20_000)
            let size = socklen_t(MemoryLayout<timeval>.size)
            transcript.note("SO_RCVTIMEO on the new copy", calls.setsockopt(second, SOL_SOCKET, SO_RCVTIMEO, &short, size))
            transcript.read("read the original times out", calls.read(left))
            for fd in [left, right, second] {
                _ = calls.close(fd)
            }

            var fds: [Int32] = [-1, -1]
            transcript.note("socketpair SOCK_NONBLOCK", calls.socketpair(AF_UNIX, stream | nonBlockingSocket, 0, &fds))
            let (first, other) = (fds[0], fds[1])
            let duplicate = transcript.descriptor("F_DUPFD", calls.fcntl(first, F_DUPFD, 0))
            let nonBlocking = calls.fcntl(duplicate, F_GETFL, 0)
            transcript.note("F_SETFL blocking on the F_DUPFD copy", calls.fcntl(duplicate, F_SETFL, Int(nonBlocking & ~O_NONBLOCK)))
            transcript.fact("original F_GETFL non-blocking", calls.fcntl(first, F_GETFL, 0) & O_NONBLOCK)
            later(.milliseconds(20)) { calls.write(other, "?") }
            transcript.read("blocking read on the original", calls.read(first))
            transcript.note("FIONBIO on the original", calls.ioctl(first, UInt(FIONBIO), &on))
            // dup3 over a copy of another socket: the number leaves that socket's group.
            let target = transcript.descriptor("dup of the other end", calls.dup(other))
            transcript.fact("dup3 returns the target", calls.dup3(first, target, O_CLOEXEC) == target)
            transcript.fact("dup3 copy F_GETFL non-blocking", calls.fcntl(target, F_GETFL, 0) & O_NONBLOCK)
            transcript.note("FIONBIO off on the other end", calls.ioctl(other, UInt(FIONBIO), &off))
            transcript.fact("dup3 copy F_GETFL non-blocking still", calls.fcntl(target, F_GETFL, 0) & O_NONBLOCK)
            transcript.note("F_SETFL blocking on the original", calls.fcntl(first, F_SETFL, Int(nonBlocking & ~O_NONBLOCK)))
            transcript.fact("dup3 copy F_GETFL non-blocking after", calls.fcntl(target, F_GETFL, 0) & O_NONBLOCK)
            transcript.fact("F_DUPFD copy F_GETFL non-blocking after", calls.fcntl(duplicate, F_GETFL, 0) & O_NONBLOCK)
            transcript.note("close the original", calls.close(first))
            transcript.fact("dup3 copy F_GETFL non-blocking after the close", calls.fcntl(target, F_GETFL, 0) & O_NONBLOCK)
            later(.milliseconds(20)) { calls.write(other, "#") }
            transcript.read("blocking read on the dup3 copy", calls.read(target))
            for fd in [other, duplicate, target] {
                _ = calls.close(fd)
            }
        },
        DescriptorScenario(name: "ppoll and pselect") { calls, transcript in
            let (left, right) = try calls.pair()
            var entry = pollfd(fd: left, events: Int16(POLLIN), revents: 0)
            var short = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            transcript.note("ppoll not ready until the timeout", calls.ppoll(&entry, 1, &short, nil))
            transcript.fact("timeout untouched", short.tv_nsec)
            later(.milliseconds(20)) { calls.write(right, "x") }
            transcript.note("ppoll without a timeout", calls.ppoll(&entry, 1, nil, nil))
            transcript.fact("revents", entry.revents)
            var invalid = timespec(tv_sec: 0, tv_nsec: 2_000_000_000)
            transcript.note("ppoll with an invalid timeout", calls.ppoll(&entry, 1, &invalid, nil))
            var empty = sigset_t()
            sigemptyset(&empty)
            transcript.note("ppoll with a signal mask", calls.ppoll(&entry, 1, &short, &empty))
            var set = fd_set()
            withUnsafeMutableBytes(of: &set) { $0[Int(left) / 8] |= 1 << UInt8(left % 8) }
            let original = set
            transcript.note("pselect ready", calls.pselect(left + 1, &set, nil, nil, &short, nil))
            _ = calls.read(left)
            set = original
            transcript.note("pselect not ready until the timeout", calls.pselect(left + 1, &set, nil, nil, &short, nil))
            transcript.fact("timeout untouched", short.tv_nsec)
            set = original
            transcript.note("pselect with an invalid timeout", calls.pselect(left + 1, &set, nil, nil, &invalid, nil))
            transcript.note("pselect with a negative count", calls.pselect(-1, nil, nil, nil, &short, nil))
            _ = calls.close(left)
            _ = calls.close(right)
        },
        DescriptorScenario(name: "opening files") { calls, transcript in
            var template = Array("/tmp/oc-open-XXXXXX".utf8CString)
            guard mkdtemp(&template) != nil else { throw ScenarioError(operation: "mkdtemp", code: errno) }
            let directory = String(cString: template)
            defer { rmdir(directory) }
            let path = directory + "/file"
            defer { unlink(path) }
            let created = transcript.descriptor("open O_CREAT 0640", calls.open(path, O_CREAT | O_WRONLY | O_EXCL, 0o640))
            var status = stat()
            stat(path, &status)
            transcript.fact("mode", String(status.st_mode & 0o777, radix: 8))
            transcript.note("write", calls.write(created, "opened", 6))
            transcript.note("close", calls.close(created))
            transcript.note("open O_EXCL again", calls.open(path, O_CREAT | O_WRONLY | O_EXCL, 0o640))
            transcript.note("open a missing file", calls.open(directory + "/missing", O_RDONLY, 0))
            transcript.note("open a file as a directory", calls.open(path, O_RDONLY | O_DIRECTORY, 0))
            transcript.note("open with a missing path", calls.open(nil, O_RDONLY, 0))
            let folder = transcript.descriptor("open the directory", calls.open(directory, O_RDONLY | O_DIRECTORY, 0))
            let relative = transcript.descriptor("openat relative to it", calls.openat(folder, "file", O_RDONLY, 0))
            transcript.read("read", calls.read(relative))
            transcript.note("openat relative to a bad descriptor", calls.openat(neverOpen, "file", O_RDONLY, 0))
            transcript.note("openat relative to a file", calls.openat(relative, "file", O_RDONLY, 0))
            let absolute = transcript.descriptor("openat an absolute path", calls.openat(neverOpen, path, O_RDONLY, 0))
            for fd in [folder, relative, absolute] {
                _ = calls.close(fd)
            }
        },
        DescriptorScenario(name: "files and positioned I/O") { calls, transcript in
            var template = Array("/tmp/oc-descriptor-XXXXXX".utf8CString)
            let file = mkstemp(&template)
            defer { unlink(template) }
            transcript.descriptor("mkstemp", file)
            transcript.note("pwrite", calls.pwrite(file, "abcdef", 6, 0))
            var buffer = [UInt8](repeating: 0, count: 4)
            transcript.note("pread", calls.pread(file, &buffer, 3, 2))
            transcript.fact("pread data", String(decoding: buffer[..<3], as: UTF8.self))
            "XY".utf8CString.withUnsafeBytes { bytes in
                var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: 2)
                transcript.note("pwritev", calls.pwritev(file, &vector, 1, 1))
            }
            buffer.withUnsafeMutableBytes { bytes in
                var vector = iovec(iov_base: bytes.baseAddress, iov_len: 4)
                transcript.note("preadv", calls.preadv(file, &vector, 1, 0))
            }
            transcript.fact("preadv data", String(decoding: buffer, as: UTF8.self))
            transcript.note("pwrite at a negative offset", calls.pwrite(file, "z", 1, -1))
            transcript.read("read from the start", calls.read(file))
            transcript.note("write at the end", calls.write(file, "!"))
            let (left, right) = try calls.pair()
            transcript.note("pread on a socket", calls.pread(left, &buffer, 1, 0))
            transcript.note("close", calls.close(file))
            _ = calls.close(left)
            _ = calls.close(right)
        },
        DescriptorScenario(name: "file edge cases: end of file, O_APPEND, O_DIRECT, modes, directories") { calls, transcript in
            var template = Array("/tmp/oc-files-XXXXXX".utf8CString)
            guard mkdtemp(&template) != nil else { throw ScenarioError(operation: "mkdtemp", code: errno) }
            let directory = String(cString: template)
            let path = directory + "/file"
            defer {
                unlink(path)
                rmdir(directory)
            }
            let writer = transcript.descriptor("open O_APPEND", calls.open(path, O_CREAT | O_WRONLY | O_APPEND, 0o600))
            transcript.note("write", calls.write(writer, "0123456789"))
            transcript.note("pwrite with O_APPEND (appends)", calls.pwrite(writer, "ab", 2, 0))
            var buffer = [UInt8](repeating: 0, count: 64)
            transcript.note("read a write-only descriptor", calls.read(writer, &buffer, 4))
            let reader = transcript.descriptor("open read-only", calls.open(path, O_RDONLY, 0))
            transcript.note("write a read-only descriptor", calls.write(reader, "x"))
            transcript.read("read all", calls.read(reader, capacity: 64))
            transcript.note("read at the end", calls.read(reader, &buffer, 8))
            transcript.note("pread past the end", calls.pread(reader, &buffer, 8, 100))
            transcript.note("pread short at the end", calls.pread(reader, &buffer, 8, 8))
            transcript.fact("short pread data", String(decoding: buffer[..<4], as: UTF8.self))
            let folder = transcript.descriptor("open the directory", calls.open(directory, O_RDONLY | O_DIRECTORY, 0))
            transcript.note("read a directory", calls.read(folder, &buffer, 8))
            transcript.note("pread a directory", calls.pread(folder, &buffer, 8, 0))
            let direct = calls.open(path, O_RDONLY | directIO, 0)
            if direct >= 0 {
                // O_DIRECT wants the buffer, offset and size aligned; one byte off is EINVAL.
                let aligned = UnsafeMutableRawPointer.allocate(byteCount: 8_192, alignment: 4_096)
                defer { aligned.deallocate() }
                transcript.note("O_DIRECT misaligned buffer", calls.pread(direct, aligned + 1, 4_096, 0))
                transcript.note("O_DIRECT misaligned size", calls.pread(direct, aligned, 100, 0))
                transcript.note("O_DIRECT aligned", calls.pread(direct, aligned, 4_096, 0))
                // Reads at the file position move it: the second comes back empty, at the end.
                transcript.note("O_DIRECT read", calls.read(direct, aligned, 4_096))
                transcript.note("O_DIRECT read again, at the end", calls.read(direct, aligned, 4_096))
                transcript.note("O_DIRECT misaligned read at the end", calls.read(direct, aligned + 1, 100))
                _ = calls.close(direct)
            } else {
                transcript.fact("O_DIRECT", "refused by this filesystem")
            }
            for fd in [writer, reader, folder] {
                transcript.note("close", calls.close(fd))
            }
            transcript.note("read a closed descriptor", calls.read(reader, &buffer, 1))
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw ScenarioError(operation: "pipe", code: errno) }
            transcript.note("pipe write", calls.write(ends[1], "through the pipe"))
            transcript.read("pipe read", calls.read(ends[0], capacity: 7))
            transcript.read("pipe read the rest", calls.read(ends[0], capacity: 64))
            transcript.note("close the write end", calls.close(ends[1]))
            transcript.note("pipe read at the end", calls.read(ends[0], &buffer, 8))
            transcript.note("pwrite on a pipe", calls.pwrite(ends[0], "x", 1, 0))
            transcript.note("close the read end", calls.close(ends[0]))
        },
    ]
}

/// O_DIRECT (0o40000 on x86_64, 0o200000 on aarch64), which Swift's view of glibc lacks
/// without _GNU_SOURCE.
#if arch(aarch64) || arch(arm64)
private let directIO: Int32 = 0o200000
#else
private let directIO: Int32 = 0o40000
#endif
