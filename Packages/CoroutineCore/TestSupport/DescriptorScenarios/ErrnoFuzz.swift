import Glibc

/// The calls the errno fuzz makes: the descriptor calls, plus `poll` and `pipe2`, which
/// `DescriptorCalls` leaves out.
public struct FuzzCalls: Sendable {
    public typealias Poll = @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, Int32) -> Int32
    public typealias Pipe = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32

    public var descriptors: DescriptorCalls
    public var poll: Poll
    /// Makes the pipes; not compared (the hook library leaves it to libc).
    public var pipe2: Pipe

    /// `descriptors`, with `poll` and `pipe2` as `scope` resolves them.
    public init(_ descriptors: DescriptorCalls, scope: SymbolScope) {
        self.descriptors = descriptors
        poll = scope.function("poll")
        pipe2 = scope.function("pipe2")
    }

    /// libc's own functions.
    public static let libc = FuzzCalls(.libc, scope: .libc)
}

/// What every run of the fuzz shares: a directory whose files each run resets, a TCP port
/// that refuses connections, and the descriptor numbers the runs keep their descriptors at.
///
/// Each run moves every descriptor it makes to `firstDescriptor + k` (k: the k-th descriptor
/// of the sequence), so that the numbers are the same in both runs, and a number the sequence
/// closed stays closed: the lowest free numbers, which the kernel hands out, would be taken
/// again by the next call of the sequence, by the runtime's own descriptors or by another
/// test's thread.
public final class ErrnoFuzzEnvironment: Sendable {
    /// The directory of the files the sequences open.
    public let directory: String
    /// The first of the numbers the runs' descriptors live at.
    public let firstDescriptor: Int32
    /// A TCP socket bound on 127.0.0.1 and not listening: a connect to it is refused.
    let refusing: Int32
    let refusingAddress: sockaddr_in

    /// How many descriptors a sequence makes at most, and how far above them lies a number
    /// never open.
    static let slotLimit = 48
    static let slotRange: Int32 = 128

    /// A fresh directory and port.
    ///
    /// - Throws: `ScenarioError` when the directory or the socket cannot be made.
    public init() throws(ScenarioError) {
        var template = Array("/tmp/oc-errno-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ScenarioError(operation: "mkdtemp", code: errno) }
        directory = String(cString: made)
        // High enough that nothing else in the process reaches it, low enough that every
        // limit allows it.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        firstDescriptor = Int32(min(limit.rlim_cur, 4_096)) - Self.slotRange
        guard firstDescriptor > 256 else { throw ScenarioError(operation: "RLIMIT_NOFILE", code: EMFILE) }
        refusing = Glibc.socket(AF_INET, streamSocket, 0)
        guard refusing >= 0 else { throw ScenarioError(operation: "socket", code: errno) }
        refusingAddress = try bindToLoopback(refusing)
    }

    /// Removes the directory and closes the socket.
    public func remove() {
        for name in ["a", "b", "new"] {
            unlink(directory + "/" + name)
        }
        rmdir(directory)
        _ = DescriptorCalls.libc.close(refusing)
    }

    /// Shuts down and closes, through libc, every number the runs keep descriptors at, which
    /// ends a call that waits on one of them: for a run that waited where it should not have.
    public func wake() {
        let libc = DescriptorCalls.libc
        for fd in firstDescriptor..<firstDescriptor + Self.slotRange {
            _ = libc.shutdown(fd, Int32(SHUT_RDWR))
            _ = libc.close(fd)
        }
    }

    /// Gives the files their first contents, through libc itself: "a" holds 64 known bytes,
    /// "b" is empty, "new" does not exist.
    func reset() {
        let libc = DescriptorCalls.libc
        unlink(directory + "/new")
        let bytes = (0..<64).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        for (name, content) in [("a", bytes), ("b", [])] {
            let fd = libc.open(directory + "/" + name, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
            _ = content.withUnsafeBytes { libc.write(fd, $0.baseAddress, $0.count) }
            _ = libc.close(fd)
        }
    }
}

/// One random sequence of descriptor calls, with bad and good arguments, fixed by its seed.
///
/// Run through two implementations, the transcripts (each call with its arguments, its
/// result, errno and the bytes it read) must be equal. The sequence never makes a call that
/// would block libc forever: reads and accepts that could wait are made only on descriptors
/// that are ready (checked with libc's own zero-timeout poll), or non-blocking; writes stay
/// within what the buffers hold; connects only where the backlog has room or the port
/// refuses; polls have zero timeouts. The choices may depend on earlier results, which are
/// equal in both runs up to the first difference, so both runs make the same calls until then.
public struct ErrnoFuzzSequence: Sendable, CustomStringConvertible {
    /// The seed the sequence is drawn from.
    public let seed: UInt64

    /// The sequence drawn from `seed`.
    public init(seed: UInt64) {
        self.seed = seed
    }

    public var description: String { "sequence \(seed)" }

    /// Runs the sequence through `calls` in `environment`, after resetting its files, and
    /// closes every descriptor it made; the transcript.
    public func run(_ calls: FuzzCalls, in environment: ErrnoFuzzEnvironment) -> [String] {
        environment.reset()
        let run = FuzzRun(seed: seed, calls: calls, environment: environment)
        defer { run.finish() }
        run.perform()
        return run.lines
    }
}

/// An open file description as the sequence knows it: what it is and what decides whether a
/// call on it could block.
private final class Description {
    enum Kind {
        case unixStream, unixDatagram, tcp, udp, file, directory, path, pipeReader, pipeWriter, other
    }

    var kind: Kind
    var nonBlocking: Bool
    /// How many of the sequence's numbers refer to it.
    var references = 0
    /// The abstract address the harness bound it to, for Unix sockets.
    var address: [CChar]?
    var listening = false
    /// The effective backlog of the last successful listen.
    var backlog = 0
    /// Connections made to it and not yet accepted.
    var pending = 0

    init(_ kind: Kind, nonBlocking: Bool) {
        self.kind = kind
        self.nonBlocking = nonBlocking
    }

    /// Whether a read can never wait, whatever is queued.
    var readsNeverWait: Bool {
        nonBlocking || listening || [.file, .directory, .path, .pipeWriter, .other].contains(kind)
    }

    var isSocket: Bool {
        [.unixStream, .unixDatagram, .tcp, .udp].contains(kind)
    }
}

/// A descriptor argument: its number in this run and how the transcript names it.
private struct Target {
    let fd: Int32
    let label: String
    /// The sequence's description behind it, when it is one of the sequence's open numbers.
    let description: Description?
}

/// One run of a sequence through one implementation.
private final class FuzzRun {
    let calls: DescriptorCalls
    let fuzzCalls: FuzzCalls
    let environment: ErrnoFuzzEnvironment
    let seed: UInt64
    var random: SplitMix64
    var lines: [String] = []
    /// The description at each of the sequence's numbers (`firstDescriptor + index`), nil
    /// where closed.
    var slots: [Description?] = []
    /// Bytes blocking writes may still queue in all, so that none ever waits for room.
    var writeBudget = 24 << 10
    /// Datagrams blocking sends may still queue: a Unix datagram socket's queue holds 10.
    var datagramBudget = 8
    /// Set once a flood filled some buffer: no blocking write is made afterwards.
    var flooded = false
    /// Descriptions no number refers to any more, kept so that connects and sends can name
    /// their released addresses.
    var retired: [Description] = []
    var step = 0

    /// What writes send: a pattern of the seed. Reads land in `sink`, larger than any file a
    /// sequence can write, so that even a read whose length was mangled cannot overrun it.
    let source: UnsafeMutableRawBufferPointer
    let sink: UnsafeMutableRawBufferPointer
    static let sourceSize = 1 << 16
    static let sinkSize = 4 << 20

    init(seed: UInt64, calls: FuzzCalls, environment: ErrnoFuzzEnvironment) {
        self.seed = seed
        self.calls = calls.descriptors
        fuzzCalls = calls
        self.environment = environment
        random = SplitMix64(seed: seed)
        source = .allocate(byteCount: Self.sourceSize, alignment: 4_096)
        sink = .allocate(byteCount: Self.sinkSize, alignment: 4_096)
        var pattern = SplitMix64(seed: seed ^ 0x5EED)
        for offset in stride(from: 0, to: Self.sourceSize, by: 8) {
            source.storeBytes(of: pattern.next(), toByteOffset: offset, as: UInt64.self)
        }
    }

    /// Closes what is still open and frees the buffers.
    func finish() {
        for index in slots.indices where slots[index] != nil {
            _ = calls.close(number(index))
        }
        source.deallocate()
        sink.deallocate()
    }

    func number(_ index: Int) -> Int32 {
        environment.firstDescriptor + Int32(index)
    }

    // MARK: Drawing

    func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    func pick<Element>(_ choices: [Element]) -> Element {
        choices.randomElement(using: &random)!
    }

    /// A random subset of `flags`, each with `percent` chance.
    func flags(_ flags: [Int32], _ percent: Int = 30) -> Int32 {
        flags.reduce(0) { chance(percent) ? $0 | $1 : $0 }
    }

    /// A descriptor argument: mostly one of the sequence's (open, or closed), sometimes -1, a
    /// number never open or one beyond every limit.
    func target() -> Target {
        let open = slots.indices.filter { slots[$0] != nil }
        let roll = Int.random(in: 0..<100, using: &random)
        if roll < 72, let index = open.randomElement(using: &random) {
            return Target(fd: number(index), label: "fd\(index)", description: slots[index])
        }
        if roll < 84, !slots.isEmpty {
            let index = Int.random(in: 0..<slots.count, using: &random)
            return Target(fd: number(index), label: "fd\(index)", description: slots[index])
        }
        return pick([
            Target(fd: -1, label: "-1", description: nil),
            Target(fd: environment.firstDescriptor + ErrnoFuzzEnvironment.slotRange - 1, label: "never-open", description: nil),
            Target(fd: 1 << 24, label: "huge", description: nil),
        ])
    }

    /// A buffer length: small, odd, large, or "negative" (a size_t beyond any buffer, which
    /// the kernel refuses before it copies anything).
    func length() -> Int {
        pick([0, 1, 3, 7, 16, 100, 4_096, 32_768, -1])
    }

    /// A read buffer: the sink (its start cleared, so that bytes a read did not write show
    /// the same in both runs), or now and then NULL, or an address that is not mapped.
    func readBuffer() -> (UnsafeMutableRawPointer?, String) {
        let roll = Int.random(in: 0..<100, using: &random)
        if roll < 8 { return (nil, "NULL") }
        if roll < 11 { return (UnsafeMutableRawPointer(bitPattern: 16), "bad") }
        memset(sink.baseAddress!, 0, Self.sourceSize)
        return (sink.baseAddress, "buf")
    }

    func writeBuffer() -> (UnsafeRawPointer?, String) {
        let (pointer, label) = readBuffer()
        return (label == "buf" ? UnsafeRawPointer(source.baseAddress) : UnsafeRawPointer(pointer), label)
    }

    // MARK: Recording

    /// Makes the call `body` and records its line: `call`, the result, errno when it failed
    /// (read right after the call), and what `detail` makes of the result.
    /// A descriptor a call returned shows only as its label (numbers differ between runs).
    @discardableResult
    func record(_ call: String, descriptor: Bool = false, _ body: () -> Int, _ detail: (Int) -> String = { _ in "" }) -> Int {
        let result = body()
        let code = errno
        let shown = detail(result)
        let outcome = result < 0 ? "-1 errno \(code)" : descriptor ? "" : "\(result)"
        lines.append("\(step) \(call) = \(outcome)\(shown.isEmpty || outcome.isEmpty ? "" : " ")\(shown)")
        return result
    }

    /// Records a call that makes a descriptor, and takes the descriptor into the sequence.
    @discardableResult
    func recordNew(_ call: String, _ description: Description, _ body: () -> Int32) -> Int? {
        var index: Int?
        record(call, descriptor: true, { Int(body()) }) { fd in
            guard fd >= 0 else { return "" }
            let (adopted, label) = adopt(Int32(fd), description)
            index = adopted
            return label
        }
        return index
    }

    /// What a vectored read that returned `result` left in the cleared start of the sink,
    /// where its vectors lie.
    func vectorBytes(_ buffer: UnsafeRawPointer?, _ result: Int) -> String {
        bytes(buffer, result > 0 ? Self.sourceSize : 0)
    }

    /// How many bytes a receive that returned `result` for `count` asked copied: MSG_TRUNC
    /// returns a datagram's whole length.
    func copied(_ result: Int, _ count: Int) -> Int {
        count < 0 ? result : min(result, count)
    }

    /// What `count` bytes read into `pointer` were: the first few in hex and a hash of all
    /// (nothing for the unmapped address reads are given to fail).
    func bytes(_ pointer: UnsafeRawPointer?, _ count: Int) -> String {
        guard let pointer, count > 0, UInt(bitPattern: pointer) > 4_096 else { return "" }
        let buffer = UnsafeRawBufferPointer(start: pointer, count: count)
        // FNV-1a over 8-byte words (then the last bytes): a debug build hashes 64 KiB quickly.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        let words = count / 8
        for word in 0..<words {
            hash = (hash ^ buffer.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)) &* 0x100_0000_01B3
        }
        for byte in buffer[(words * 8)...] {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        let head = buffer.prefix(8).map { String($0, radix: 16) }.joined(separator: ".")
        return "[\(head)] fnv \(String(hash, radix: 16))"
    }

    /// Takes a new descriptor into the sequence: moves it to the next of the sequence's
    /// numbers (keeping its close-on-exec flag), or notes where it landed when it is one of
    /// them already (dup2 and dup3 onto them); its index and the label it is shown with,
    /// which includes its close-on-exec flag.
    func adopt(_ fd: Int32, _ description: Description) -> (Int?, String) {
        var index = Int(fd - environment.firstDescriptor)
        if fd < environment.firstDescriptor || index > slots.count {
            index = slots.count
            let target = number(index)
            let closeOnExec = calls.fcntl(fd, F_GETFD, 0)
            guard calls.dup3(fd, target, closeOnExec > 0 && closeOnExec & FD_CLOEXEC != 0 ? O_CLOEXEC : 0) == target else {
                let code = errno
                _ = calls.close(fd)
                return (nil, "(moving it failed: errno \(code))")
            }
            _ = calls.close(fd)
        }
        if index == slots.count {
            slots.append(nil)
        }
        replace(index, with: description)
        return (index, "fd\(index) cloexec \(calls.fcntl(number(index), F_GETFD, 0))")
    }

    /// Points the sequence's number `index` at `description` (nil: closed).
    func replace(_ index: Int, with description: Description?) {
        slots[index]?.references -= 1
        slots[index] = description
        description?.references += 1
    }

    func slotIndex(_ fd: Int32) -> Int? {
        let index = Int(fd - environment.firstDescriptor)
        return fd >= environment.firstDescriptor && index < slots.count ? index : nil
    }

    /// Whether the kernel holds something to read (or an end, an error, a connection) on
    /// `fd`: libc's own poll with a zero timeout, the same in both runs.
    func ready(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var zero = timespec()
        return DescriptorCalls.libc.ppoll(&entry, 1, &zero, nil) > 0
    }

    /// Whether a blocking read on `target` could wait forever.
    func readCouldWait(_ target: Target) -> Bool {
        guard let description = target.description else { return false }
        return !description.readsNeverWait && !ready(target.fd)
    }

    /// Whether a blocking write of `count` bytes on `target` could wait; takes it from the
    /// budget when not.
    func writeCouldWait(_ target: Target, _ count: Int, dontWait: Bool) -> Bool {
        guard let description = target.description, !description.nonBlocking, !dontWait else { return false }
        guard [.unixStream, .unixDatagram, .pipeWriter].contains(description.kind) else { return false }
        let bytes = max(count, 0) > Self.sourceSize ? 0 : max(count, 0)
        if flooded || bytes > writeBudget || (description.kind == .unixDatagram && datagramBudget == 0) {
            return true
        }
        writeBudget -= bytes
        if description.kind == .unixDatagram {
            datagramBudget -= 1
        }
        return false
    }

    // MARK: The sequence

    func perform() {
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            make()
            step += 1
        }
        for _ in 0..<Int.random(in: 8...40, using: &random) {
            switch Int.random(in: 0..<100, using: &random) {
            case ..<12: if slots.count < ErrnoFuzzEnvironment.slotLimit { make() }
            case ..<20: connect()
            case ..<24: listen()
            case ..<29: accept()
            case ..<33: shutdown()
            case ..<38: close()
            case ..<52: read()
            case ..<64: write()
            case ..<68: positioned()
            case ..<76: control()
            case ..<81: ioctl()
            case ..<89: duplicate()
            case ..<96: poll()
            default: flood()
            }
            step += 1
        }
    }

    /// Makes new descriptors: a socket, a pair, a pipe, or an opened file.
    func make() {
        switch Int.random(in: 0..<100, using: &random) {
        case ..<30: socket()
        case ..<55: socketpair()
        case ..<65: pipe()
        default: open()
        }
    }

    /// socket: Unix, TCP and UDP, good and bad families, types, flags and protocols. Unix
    /// sockets are often bound to an address of their own, which connects and sends can name.
    func socket() {
        let domain = pick([AF_UNIX, AF_UNIX, AF_UNIX, AF_INET, AF_INET, AF_INET6, 12_345])
        let base = pick([streamSocket, streamSocket, datagramSocket, Int32(SOCK_SEQPACKET.rawValue), 12_345])
        let type = base | flags([nonBlockingSocket, Int32(SOCK_CLOEXEC.rawValue)])
        let proto: Int32 = chance(92) ? 0 : 99
        let kind: Description.Kind = switch (domain, base) {
        case (AF_UNIX, datagramSocket): .unixDatagram
        case (AF_UNIX, _): .unixStream
        case (_, datagramSocket): .udp
        default: .tcp
        }
        let description = Description(kind, nonBlocking: type & nonBlockingSocket != 0)
        let bindIt = domain == AF_UNIX && chance(60)
        guard let index = recordNew("socket(\(domain), \(type), \(proto))", description, { calls.socket(domain, type, proto) }),
              bindIt else { return }
        // A name of this sequence and number, the same in both runs (one runs after the
        // other, so the first has released it by then).
        let name = Array("\0oc-errno-fuzz-\(getpid())-\(seed)-\(index)".utf8CString.dropLast())
        let result = withUnixAddress(name) { Glibc.bind(number(index), $0, $1) }
        if result == 0 {
            description.address = name
        }
        lines.append("\(step) bind(fd\(index)) = \(result < 0 ? "-1 errno \(errno)" : "0") (libc's, not compared)")
    }

    /// Calls `body` with the abstract Unix address `name` and its length.
    func withUnixAddress<Result>(_ name: [CChar], _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in name.enumerated() { path[index] = UInt8(bitPattern: byte) }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }

    /// socketpair: stream, datagram and seqpacket, with flags; a family that has no pairs; NULL.
    func socketpair() {
        let domain = chance(90) ? AF_UNIX : AF_INET
        let base = pick([streamSocket, streamSocket, datagramSocket, Int32(SOCK_SEQPACKET.rawValue)])
        let type = base | flags([nonBlockingSocket, Int32(SOCK_CLOEXEC.rawValue)])
        if chance(4) {
            record("socketpair(\(domain), \(type), NULL)", { Int(calls.socketpair(domain, type, 0, nil)) })
            return
        }
        var pair: [Int32] = [-1, -1]
        let kind: Description.Kind = base == datagramSocket ? .unixDatagram : .unixStream
        let nonBlocking = type & nonBlockingSocket != 0
        record("socketpair(\(domain), \(type))", { Int(calls.socketpair(domain, type, 0, &pair)) }) { result in
            guard result == 0 else { return "" }
            let first = adopt(pair[0], Description(kind, nonBlocking: nonBlocking)).1
            return first + ", " + adopt(pair[1], Description(kind, nonBlocking: nonBlocking)).1
        }
    }

    /// A pipe, blocking or not (the ends are then known as streams to the layer).
    func pipe() {
        let pipeFlags = flags([O_NONBLOCK, O_CLOEXEC], 40)
        var ends: [Int32] = [-1, -1]
        let nonBlocking = pipeFlags & O_NONBLOCK != 0
        record("pipe2(\(pipeFlags))", { Int(fuzzCalls.pipe2(&ends, pipeFlags)) }) { result in
            guard result == 0 else { return "" }
            let reader = adopt(ends[0], Description(.pipeReader, nonBlocking: nonBlocking)).1
            return reader + ", " + adopt(ends[1], Description(.pipeWriter, nonBlocking: nonBlocking)).1
        }
    }

    /// open or openat: of the directory, its files, a file to create, missing paths, a file
    /// taken as a directory, an empty path and NULL, with random flags and modes.
    func open() {
        let directory = environment.directory
        let name = pick(["a", "b", "new", ".", "missing/x", "a/x", ""])
        let access = pick([O_RDONLY, O_RDONLY, O_WRONLY, O_RDWR, O_RDWR, 3])
        let openFlags = access | flags([O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW], 15)
            | (chance(5) ? pathOnly : 0) | (chance(3) ? temporaryFile : 0)
        let mode: mode_t = pick([0o644, 0o600, 0o7777])
        let description = Description(.file, nonBlocking: openFlags & O_NONBLOCK != 0)
        let index: Int?
        if chance(50) {
            let path: String? = chance(4) ? nil : (name.isEmpty ? "" : directory + "/" + name)
            let call = "open(\(path == nil ? "NULL" : "dir/" + name), \(openFlags), \(String(mode, radix: 8)))"
            index = recordNew(call, description) { path.map { calls.open($0, openFlags, mode) } ?? calls.open(nil, openFlags, mode) }
        } else {
            let base: Target
            let relative: String
            if chance(20) {
                base = Target(fd: AT_FDCWD, label: "AT_FDCWD", description: nil)
                relative = chance(50) ? directory + "/" + name : "oc-errno-fuzz-missing/" + name
            } else {
                base = target()
                relative = chance(10) ? directory + "/" + name : name
            }
            let call = "openat(\(base.label), \(relative.hasPrefix("/") ? "dir/" + name : relative), \(openFlags), \(String(mode, radix: 8)))"
            index = recordNew(call, description) { calls.openat(base.fd, relative, openFlags, mode) }
        }
        // What was opened decides whether reads could wait (none of these can).
        guard let index else { return }
        var status = stat()
        if openFlags & pathOnly != 0 {
            description.kind = .path
        } else if fstat(number(index), &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            description.kind = .directory
        }
    }

    /// connect: a Unix socket to a bound address (listening or not, open or released), a TCP
    /// socket to the refusing port; bad lengths, families and NULL.
    func connect() {
        let socket = target()
        let description = socket.description
        let roll = Int.random(in: 0..<100, using: &random)
        if roll < 8 {
            record("connect(\(socket.label), NULL, 16)", { Int(calls.connect(socket.fd, nil, 16)) })
            return
        }
        if description?.kind != .udp, roll < 40 || description?.kind == .tcp {
            // The refusing port: a blocking connect is refused at once; a non-blocking one
            // (and a UDP socket's, which would succeed) would leave what later calls see to
            // the timing of the reset, so none is made.
            if description?.kind == .tcp && description?.nonBlocking == true { return }
            var address = environment.refusingAddress
            let length = socklen_t(chance(10) ? 8 : MemoryLayout<sockaddr_in>.size)
            record("connect(\(socket.label), refusing port, \(length))", {
                Int(withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { calls.connect(socket.fd, $0, length) }
                })
            })
            return
        }
        let listener = chance(85) ? allDescriptions.filter { $0.address != nil }.randomElement(using: &random) : nil
        let name = listener?.address ?? Array("\0oc-errno-fuzz-nobody".utf8CString.dropLast())
        if let listener, listener.references > 0, listener.listening, listener.pending >= listener.backlog,
           description?.kind == .unixStream, description?.nonBlocking == false {
            return  // a full backlog: a blocking connect would wait for room
        }
        let short = chance(5)
        let label = listener.map { "address of \(slotLabel($0))" } ?? "unbound address"
        let result = record("connect(\(socket.label), \(label)\(short ? ", length 1" : ""))", {
            Int(withUnixAddress(name) { calls.connect(socket.fd, $0, short ? 1 : $1) })
        })
        if result == 0, let listener, listener.listening, description?.kind == .unixStream {
            listener.pending += 1
        }
    }

    /// Room for an address, filled with a mark so that what the kernel wrote shows.
    func markedAddress() -> sockaddr_storage {
        var address = sockaddr_storage()
        withUnsafeMutableBytes(of: &address) { bytes in
            for index in bytes.indices { bytes[index] = 0xAA }
        }
        return address
    }

    /// Every description some number of the sequence refers to or once referred to.
    var allDescriptions: [Description] {
        var seen = Set<ObjectIdentifier>()
        return (slots.compactMap { $0 } + retired).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    func slotLabel(_ description: Description) -> String {
        slots.firstIndex { $0 === description }.map { "fd\($0)" } ?? "a closed socket"
    }

    func listen() {
        let socket = target()
        let backlog = pick([0, 1, 2, 5, -1])
        let result = record("listen(\(socket.label), \(backlog))", { Int(calls.listen(socket.fd, Int32(backlog))) })
        if result == 0, let description = socket.description {
            description.listening = true
            description.backlog = backlog < 0 ? 4_096 : backlog
        }
    }

    /// accept or accept4, with or without room for the peer's address, with good and bad
    /// flags; a blocking accept on a listening socket only when a connection waits.
    func accept() {
        let socket = target()
        if let description = socket.description, description.listening, !description.nonBlocking, !ready(socket.fd) {
            return
        }
        var address = markedAddress()
        var length = socklen_t(pick([0, 2, 16, 110, 128]))
        let withAddress = chance(50)
        let nullLength = withAddress && chance(5)
        let useAccept4 = chance(60)
        let acceptFlags = useAccept4
            ? flags([nonBlockingSocket, Int32(SOCK_CLOEXEC.rawValue)], 40) | (chance(5) ? 0x7fff_0000 : 0) : 0
        let call = useAccept4
            ? "accept4(\(socket.label), address \(withAddress), \(acceptFlags))" : "accept(\(socket.label), address \(withAddress))"
        let accepted = Description(.unixStream, nonBlocking: acceptFlags & nonBlockingSocket != 0)
        let index = recordNew(call + (nullLength ? " NULL length" : ""), accepted) {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    withUnsafeMutablePointer(to: &length) { lengthPointer in
                        let addressArgument = withAddress ? pointer : nil
                        let lengthArgument = withAddress && !nullLength ? lengthPointer : nil
                        return useAccept4
                            ? calls.accept4(socket.fd, addressArgument, lengthArgument, acceptFlags)
                            : calls.accept(socket.fd, addressArgument, lengthArgument)
                    }
                }
            }
        }
        guard index != nil else { return }
        if let description = socket.description {
            description.pending = max(description.pending - 1, 0)
        }
        if withAddress {
            lines.append("\(step) accepted address \(length) \(bytes(&address, min(Int(length), 128)))")
        }
    }

    func shutdown() {
        let socket = target()
        let how = pick([Int32(SHUT_RD), Int32(SHUT_WR), Int32(SHUT_RDWR), 7])
        record("shutdown(\(socket.label), \(how))", { Int(calls.shutdown(socket.fd, how)) })
    }

    func close() {
        let target = target()
        record("close(\(target.label))", { Int(calls.close(target.fd)) })
        if let index = slotIndex(target.fd), let description = slots[index] {
            // Linux frees the number even when close reports an error.
            replace(index, with: nil)
            if description.references == 0 { retired.append(description) }
        }
    }

    /// read, readv, recv, recvfrom or recvmsg, with a length, buffer and flags drawn at
    /// random; MSG_DONTWAIT, or no call, where a blocking one could wait.
    func read() {
        let target = target()
        let count = length()
        let (buffer, bufferLabel) = readBuffer()
        var receiveFlags = flags([dontWait, Int32(MSG_PEEK), Int32(MSG_TRUNC)], 20)
            | (chance(3) ? Int32(MSG_OOB) : 0) | (chance(3) ? Int32(MSG_WAITALL) | dontWait : 0)
        let waits = readCouldWait(target)
        if waits {
            receiveFlags |= dontWait
        }
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            if waits { return }
            record("read(\(target.label), \(bufferLabel), \(count))", { calls.read(target.fd, buffer, count) }) { bytes(buffer, $0) }
        case 1:
            if waits { return }
            withVectors(buffer, bufferLabel, writing: false) { vectors, vectorCount, label in
                record("readv(\(target.label), \(label))", { calls.readv(target.fd, vectors, vectorCount) }) { vectorBytes(buffer, $0) }
            }
        case 2:
            record("recv(\(target.label), \(bufferLabel), \(count), \(receiveFlags))", {
                calls.recv(target.fd, buffer, count, receiveFlags)
            }) { bytes(buffer, copied($0, count)) }
        case 3:
            var address = markedAddress()
            var addressLength = socklen_t(pick([0, 2, 16, 110, 128]))
            let withAddress = chance(60)
            record("recvfrom(\(target.label), \(bufferLabel), \(count), \(receiveFlags), address \(withAddress))", {
                withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                        withUnsafeMutablePointer(to: &addressLength) { lengthPointer in
                            calls.recvfrom(target.fd, buffer, count, receiveFlags, withAddress ? pointer : nil, withAddress ? lengthPointer : nil)
                        }
                    }
                }
            }) { result in
                let shown = withAddress && result >= 0 ? " address \(addressLength) \(bytes(&address, min(Int(addressLength), 128)))" : ""
                return bytes(buffer, copied(result, count)) + shown
            }
        default:
            if chance(4) {
                record("recvmsg(\(target.label), NULL)", { calls.recvmsg(target.fd, nil, receiveFlags) })
                return
            }
            let compat = chance(3) ? Int32(bitPattern: 0x8000_0000) : 0
            withMessage(buffer, bufferLabel, writing: false) { message, label in
                record("recvmsg(\(target.label), \(label), \(receiveFlags | compat))", {
                    calls.recvmsg(target.fd, message, receiveFlags | compat)
                }) { result in
                    let header = message.pointee
                    return vectorBytes(buffer, result)
                        + " flags \(header.msg_flags) name \(header.msg_namelen) control \(header.msg_controllen)"
                }
            }
        }
    }

    /// write, writev, send, sendto or sendmsg; a blocking one only while the buffers have
    /// room for it.
    func write() {
        let target = target()
        let count = length()
        var (buffer, bufferLabel) = writeBuffer()
        // write(2) refuses a "negative" length before it copies; send and sendto take it as
        // 2 GiB and copy on past the buffer, so there it goes with NULL.
        if count < 0 {
            (buffer, bufferLabel) = (nil, "NULL")
        }
        let sendFlags = Int32(MSG_NOSIGNAL) | flags([dontWait, Int32(MSG_MORE), Int32(MSG_EOR)], 15)
        let noWait = sendFlags & dontWait != 0
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            guard !writeCouldWait(target, count, dontWait: false) else { return }
            record("write(\(target.label), \(bufferLabel), \(count))", { calls.write(target.fd, buffer, count) })
        case 1:
            withVectors(UnsafeMutableRawPointer(mutating: buffer), bufferLabel, writing: true) { vectors, vectorCount, label in
                guard !writeCouldWait(target, total(vectors, vectorCount), dontWait: false) else { return }
                record("writev(\(target.label), \(label))", { calls.writev(target.fd, vectors, vectorCount) })
            }
        case 2:
            guard !writeCouldWait(target, count, dontWait: noWait) else { return }
            record("send(\(target.label), \(bufferLabel), \(count), \(sendFlags))", { calls.send(target.fd, buffer, count, sendFlags) })
        case 3:
            guard !writeCouldWait(target, count, dontWait: noWait) else { return }
            let names = allDescriptions.compactMap(\.address)
            if chance(70), let name = names.randomElement(using: &random) {
                record("sendto(\(target.label), \(bufferLabel), \(count), \(sendFlags), a bound address)", {
                    withUnixAddress(name) { calls.sendto(target.fd, buffer, count, sendFlags, $0, $1) }
                })
            } else {
                record("sendto(\(target.label), \(bufferLabel), \(count), \(sendFlags), NULL)", {
                    calls.sendto(target.fd, buffer, count, sendFlags, nil, 0)
                })
            }
        default:
            if chance(4) {
                record("sendmsg(\(target.label), NULL)", { calls.sendmsg(target.fd, nil, sendFlags) })
                return
            }
            withMessage(UnsafeMutableRawPointer(mutating: buffer), bufferLabel, writing: true) { message, label in
                let vectorCount = Int32(clamping: message.pointee.msg_iovlen)
                guard !writeCouldWait(target, total(message.pointee.msg_iov, vectorCount), dontWait: noWait) else { return }
                // No address and no control data: descriptors passed in SCM_RIGHTS would land
                // at numbers the sequence does not know.
                message.pointee.msg_name = nil
                message.pointee.msg_namelen = 0
                message.pointee.msg_control = nil
                message.pointee.msg_controllen = 0
                record("sendmsg(\(target.label), \(label), \(sendFlags))", { calls.sendmsg(target.fd, message, sendFlags) })
            }
        }
    }

    /// The bytes `vectors` ask for, counting a "negative" length as nothing (the kernel
    /// refuses it before it copies).
    func total(_ vectors: UnsafePointer<iovec>?, _ count: Int32) -> Int {
        guard let vectors, count > 0, count <= 3 else { return 0 }
        return (0..<Int(count)).reduce(0) { $0 + (vectors[$1].iov_len > Self.sourceSize ? 0 : vectors[$1].iov_len) }
    }

    /// Up to three vectors over `buffer` (each within its own 16 KiB), now and then with a
    /// NULL base, a "negative" length, a NULL array or a count out of range. The kernel takes
    /// a vector's "negative" length as 2 GiB and copies on past the buffer, so a write's goes
    /// with a NULL base (a read's fills no more than the sink holds).
    func withVectors(_ buffer: UnsafeMutableRawPointer?, _ bufferLabel: String, writing: Bool,
                     _ body: (UnsafePointer<iovec>?, Int32, String) -> Void) {
        var vectors: [iovec] = (0..<3).map { index in
            let length = pick([0, 1, 5, 64, 4_096, 16_384, -1])
            let base = chance(5) || (writing && length < 0) ? nil : buffer.map { $0 + index * 16_384 }
            return iovec(iov_base: base, iov_len: length < 0 ? Int.max : length)
        }
        let count = pick([1, 2, 3, 3, 0, -1, 1_025])
        let shown = vectors.prefix(max(0, min(count, 3))).map { vector in
            (vector.iov_base == nil ? "NULL:" : "") + (vector.iov_len == Int.max ? "-1" : "\(vector.iov_len)")
        }
        if chance(4) {
            return body(nil, Int32(count), "NULL count \(count)")
        }
        vectors.withUnsafeMutableBufferPointer {
            body($0.baseAddress, Int32(count), "\(bufferLabel) \(shown.joined(separator: "+")) count \(count)")
        }
    }

    /// A message header over `withVectors`' vectors, with room for the sender's address and
    /// for control data at random; a negative vector count becomes one out of range.
    func withMessage(_ buffer: UnsafeMutableRawPointer?, _ bufferLabel: String, writing: Bool,
                     _ body: (UnsafeMutablePointer<msghdr>, String) -> Void) {
        var address = sockaddr_storage()
        var control = [UInt8](repeating: 0, count: 64)
        let withName = chance(40)
        let withControl = chance(30)
        withVectors(buffer, bufferLabel, writing: writing) { vectors, count, label in
            withUnsafeMutablePointer(to: &address) { addressPointer in
                control.withUnsafeMutableBytes { controlBytes in
                    var message = msghdr()
                    message.msg_iov = UnsafeMutablePointer(mutating: vectors)
                    message.msg_iovlen = count < 0 ? 2_000 : Int(count)
                    message.msg_name = withName ? UnsafeMutableRawPointer(addressPointer) : nil
                    message.msg_namelen = withName ? socklen_t(MemoryLayout<sockaddr_storage>.size) : 0
                    message.msg_control = withControl ? controlBytes.baseAddress : nil
                    message.msg_controllen = withControl ? controlBytes.count : 0
                    body(&message, "\(label) name \(withName) control \(withControl)")
                }
            }
        }
    }

    /// pread, pwrite, preadv and pwritev at good, past-the-end and negative offsets (none of
    /// which waits: a socket or a pipe refuses them).
    func positioned() {
        let target = target()
        let count = pick([0, 1, 7, 100, 4_096, -1])
        let offset = off_t(pick([0, 3, 63, 64, 1_000, -1, 1 << 40]))
        // Writes stay near the start, so that no file outgrows the sink.
        let writeOffset = min(offset, 1_000)
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let (buffer, label) = readBuffer()
            record("pread(\(target.label), \(label), \(count), \(offset))", { calls.pread(target.fd, buffer, count, offset) }) {
                bytes(buffer, $0)
            }
        case 1:
            let (buffer, label) = writeBuffer()
            record("pwrite(\(target.label), \(label), \(count), \(writeOffset))", { calls.pwrite(target.fd, buffer, count, writeOffset) })
        case 2:
            let (buffer, label) = readBuffer()
            withVectors(buffer, label, writing: false) { vectors, vectorCount, label in
                record("preadv(\(target.label), \(label), \(offset))", { calls.preadv(target.fd, vectors, vectorCount, offset) }) {
                    vectorBytes(buffer, $0)
                }
            }
        default:
            let (buffer, label) = writeBuffer()
            withVectors(UnsafeMutableRawPointer(mutating: buffer), label, writing: true) { vectors, vectorCount, label in
                record("pwritev(\(target.label), \(label), \(writeOffset))", {
                    calls.pwritev(target.fd, vectors, vectorCount, writeOffset)
                })
            }
        }
    }

    /// fcntl: F_GETFL, F_SETFL with and without O_NONBLOCK (and O_APPEND, O_DIRECT,
    /// O_NOATIME, an unknown bit), F_SETFD and F_GETFD, an unknown command.
    func control() {
        let target = target()
        switch Int.random(in: 0..<10, using: &random) {
        case ..<4:
            record("fcntl(\(target.label), F_GETFL)", { Int(calls.fcntl(target.fd, F_GETFL, 0)) })
        case ..<8:
            let status = flags([O_NONBLOCK, O_NONBLOCK, O_APPEND, directIO, noAccessTime, 0x4000_0000], 25)
            let result = record("fcntl(\(target.label), F_SETFL, \(status))", { Int(calls.fcntl(target.fd, F_SETFL, Int(status))) })
            if result == 0, let description = target.description {
                description.nonBlocking = status & O_NONBLOCK != 0
            }
        case 8:
            let value = pick([0, FD_CLOEXEC, 0x70])
            record("fcntl(\(target.label), F_SETFD, \(value))", { Int(calls.fcntl(target.fd, F_SETFD, Int(value))) })
            record("fcntl(\(target.label), F_GETFD)", { Int(calls.fcntl(target.fd, F_GETFD, 0)) })
        default:
            record("fcntl(\(target.label), 12345)", { Int(calls.fcntl(target.fd, 12_345, 0)) })
        }
    }

    /// ioctl: FIONBIO on and off (and without an argument), FIONREAD.
    func ioctl() {
        let target = target()
        var value: Int32 = chance(50) ? 1 : 0
        if chance(60) {
            if chance(8) {
                record("ioctl(\(target.label), FIONBIO, NULL)", { Int(calls.ioctl(target.fd, UInt(FIONBIO), nil)) })
                return
            }
            let result = record("ioctl(\(target.label), FIONBIO, \(value))", { Int(calls.ioctl(target.fd, UInt(FIONBIO), &value)) })
            if result == 0, let description = target.description {
                description.nonBlocking = value != 0
            }
        } else {
            value = -7
            record("ioctl(\(target.label), FIONREAD)", { Int(calls.ioctl(target.fd, UInt(FIONREAD), &value)) }) { _ in "value \(value)" }
        }
    }

    /// dup, dup2 and dup3 onto the sequence's numbers (open, closed or the next), and
    /// F_DUPFD / F_DUPFD_CLOEXEC, with bad flags, minimums and sources.
    func duplicate() {
        let source = target()
        let shared = source.description ?? Description(.other, nonBlocking: false)
        let onto = Int.random(in: 0...slots.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            recordNew("dup(\(source.label))", shared) { calls.dup(source.fd) }
        case 1, 2:
            let useDup3 = chance(50)
            let dupFlags = useDup3 ? pick([0, O_CLOEXEC, O_CLOEXEC, 12_345]) : 0
            // The description the number held before, released if the call succeeds.
            let previous = onto < slots.count ? slots[onto] : nil
            let call = useDup3 ? "dup3(\(source.label), fd\(onto), \(dupFlags))" : "dup2(\(source.label), fd\(onto))"
            let index = recordNew(call, shared) {
                useDup3 ? calls.dup3(source.fd, number(onto), dupFlags) : calls.dup2(source.fd, number(onto))
            }
            if index != nil, let previous, previous.references == 0 {
                retired.append(previous)
            }
        default:
            let command = chance(50) ? F_DUPFD : F_DUPFD_CLOEXEC
            let minimum = pick([0, 0, -1, 1 << 24])
            let name = command == F_DUPFD ? "F_DUPFD" : "F_DUPFD_CLOEXEC"
            recordNew("fcntl(\(source.label), \(name), \(minimum))", shared) { calls.fcntl(source.fd, command, minimum) }
        }
    }

    /// poll or ppoll with a zero timeout over a few of the sequence's numbers (and -1 and
    /// numbers never open); NULL arrays, counts beyond the limit, invalid timeouts, a mask.
    func poll() {
        let eventChoices = [Int16(POLLIN), Int16(POLLOUT), Int16(POLLPRI), readHangUp]
        var entries: [pollfd] = []
        var labels: [String] = []
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let target = target()
            entries.append(pollfd(fd: target.fd, events: eventChoices.reduce(0) { chance(40) ? $0 | $1 : $0 }, revents: 0))
            labels.append(target.label)
        }
        let roll = Int.random(in: 0..<100, using: &random)
        let count = roll < 5 ? nfds_t(Int32.max) : nfds_t(entries.count)
        let useNull = roll >= 5 && roll < 9
        let call = "\(labels.joined(separator: " ")) events \(entries.map(\.events)) count \(count)\(useNull ? " NULL" : "")"
        if chance(50) {
            record("poll(\(call), 0)", {
                Int(useNull ? fuzzCalls.poll(nil, count, 0) : fuzzCalls.poll(&entries, count, 0))
            }) { _ in "revents \(entries.map(\.revents))" }
        } else {
            var timeout = pick([timespec(), timespec(), timespec(tv_sec: 0, tv_nsec: 2_000_000_000), timespec(tv_sec: -1, tv_nsec: 0)])
            var mask = sigset_t()
            sigemptyset(&mask)
            let withMask = chance(20)
            record("ppoll(\(call), \(timeout.tv_sec) s \(timeout.tv_nsec) ns, mask \(withMask))", {
                Int(withUnsafePointer(to: &mask) { maskPointer in
                    useNull
                        ? calls.ppoll(nil, count, &timeout, withMask ? maskPointer : nil)
                        : calls.ppoll(&entries, count, &timeout, withMask ? maskPointer : nil)
                })
            }) { _ in "revents \(entries.map(\.revents))" }
        }
    }

    /// Fills a non-blocking socket's or pipe's buffers until EAGAIN; afterwards no blocking
    /// write is made, since some buffer may be full.
    func flood() {
        let target = target()
        guard let description = target.description,
              [.unixStream, .unixDatagram, .pipeWriter, .tcp, .udp].contains(description.kind),
              description.nonBlocking || description.isSocket else { return }
        flooded = true
        var results: [String] = []
        for _ in 0..<64 {
            let result = description.nonBlocking
                ? calls.write(target.fd, source.baseAddress, Self.sourceSize)
                : calls.send(target.fd, source.baseAddress, Self.sourceSize, dontWait | Int32(MSG_NOSIGNAL))
            results.append(result < 0 ? "-1 errno \(errno)" : "\(result)")
            if result < Self.sourceSize { break }
        }
        lines.append("\(step) flood(\(target.label), \(description.nonBlocking ? "write" : "send MSG_DONTWAIT")) = \(results)")
    }
}

private let datagramSocket = Int32(SOCK_DGRAM.rawValue)
private let nonBlockingSocket = Int32(SOCK_NONBLOCK.rawValue)
private let dontWait = Int32(MSG_DONTWAIT)

/// POLLRDHUP, which Swift's view of glibc lacks without _GNU_SOURCE.
private let readHangUp: Int16 = 0x2000

/// O_PATH, O_TMPFILE, O_DIRECT and O_NOATIME, which Swift's view of glibc lacks without _GNU_SOURCE
/// (O_TMPFILE includes O_DIRECTORY, whose value differs too).
private let pathOnly: Int32 = 0o10000000
private let noAccessTime: Int32 = 0o1000000
#if arch(aarch64) || arch(arm64)
private let temporaryFile: Int32 = 0o20000000 | 0o40000
private let directIO: Int32 = 0o200000
#else
private let temporaryFile: Int32 = 0o20000000 | 0o200000
private let directIO: Int32 = 0o40000
#endif
