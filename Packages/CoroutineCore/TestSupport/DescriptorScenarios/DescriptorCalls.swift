import Glibc

/// One implementation of the descriptor calls (libc's, the Syscall layer's, or whatever the
/// process's global names resolve to), so that a differential test runs the same sequence
/// through each.
public struct DescriptorCalls: Sendable {
    public typealias Transfer = @convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int
    public typealias ConstTransfer = @convention(c) (Int32, UnsafeRawPointer?, Int) -> Int
    public typealias Vectors = @convention(c) (Int32, UnsafePointer<iovec>?, Int32) -> Int
    public typealias PositionedVectors = @convention(c) (Int32, UnsafePointer<iovec>?, Int32, off_t) -> Int

    public var socket: @convention(c) (Int32, Int32, Int32) -> Int32
    public var socketpair: @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    public var connect: @convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32
    public var listen: @convention(c) (Int32, Int32) -> Int32
    public var accept: @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32
    public var accept4: @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32
    public var shutdown: @convention(c) (Int32, Int32) -> Int32
    public var close: @convention(c) (Int32) -> Int32
    public var read: Transfer
    public var readv: Vectors
    public var recv: @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32) -> Int
    public var recvfrom: @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int
    public var recvmsg: @convention(c) (Int32, UnsafeMutablePointer<msghdr>?, Int32) -> Int
    public var pread: @convention(c) (Int32, UnsafeMutableRawPointer?, Int, off_t) -> Int
    public var preadv: PositionedVectors
    public var write: ConstTransfer
    public var writev: Vectors
    public var send: @convention(c) (Int32, UnsafeRawPointer?, Int, Int32) -> Int
    public var sendto: @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int
    public var sendmsg: @convention(c) (Int32, UnsafePointer<msghdr>?, Int32) -> Int
    public var pwrite: @convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int
    public var pwritev: PositionedVectors
    /// fcntl and ioctl are variadic in C; every implementation takes the one argument these
    /// tests pass.
    public var fcntl: @Sendable (Int32, Int32, Int) -> Int32
    public var ioctl: @Sendable (Int32, UInt, UnsafeMutableRawPointer?) -> Int32
    public var getsockopt: @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<socklen_t>?) -> Int32
    public var setsockopt: @convention(c) (Int32, Int32, Int32, UnsafeRawPointer?, socklen_t) -> Int32
    public var dup: @convention(c) (Int32) -> Int32
    public var dup2: @convention(c) (Int32, Int32) -> Int32
    public var dup3: @convention(c) (Int32, Int32, Int32) -> Int32
    /// open and openat are variadic in C: these always pass the mode, which only counts with
    /// O_CREAT or O_TMPFILE.
    public var open: @convention(c) (UnsafePointer<CChar>?, Int32, mode_t) -> Int32
    public var openat: @convention(c) (Int32, UnsafePointer<CChar>?, Int32, mode_t) -> Int32
    public var ppoll: @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32
    public var pselect: @convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32

    /// A table of the given functions.
    public init(
        socket: @escaping @convention(c) (Int32, Int32, Int32) -> Int32,
        socketpair: @escaping @convention(c) (Int32, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Int32,
        connect: @escaping @convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32,
        listen: @escaping @convention(c) (Int32, Int32) -> Int32,
        accept: @escaping @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32,
        accept4: @escaping @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32,
        shutdown: @escaping @convention(c) (Int32, Int32) -> Int32,
        close: @escaping @convention(c) (Int32) -> Int32,
        read: @escaping Transfer,
        readv: @escaping Vectors,
        recv: @escaping @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32) -> Int,
        recvfrom: @escaping @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int,
        recvmsg: @escaping @convention(c) (Int32, UnsafeMutablePointer<msghdr>?, Int32) -> Int,
        pread: @escaping @convention(c) (Int32, UnsafeMutableRawPointer?, Int, off_t) -> Int,
        preadv: @escaping PositionedVectors,
        write: @escaping ConstTransfer,
        writev: @escaping Vectors,
        send: @escaping @convention(c) (Int32, UnsafeRawPointer?, Int, Int32) -> Int,
        sendto: @escaping @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int,
        sendmsg: @escaping @convention(c) (Int32, UnsafePointer<msghdr>?, Int32) -> Int,
        pwrite: @escaping @convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int,
        pwritev: @escaping PositionedVectors,
        fcntl: @escaping @Sendable (Int32, Int32, Int) -> Int32,
        ioctl: @escaping @Sendable (Int32, UInt, UnsafeMutableRawPointer?) -> Int32,
        getsockopt: @escaping @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<socklen_t>?) -> Int32,
        setsockopt: @escaping @convention(c) (Int32, Int32, Int32, UnsafeRawPointer?, socklen_t) -> Int32,
        dup: @escaping @convention(c) (Int32) -> Int32,
        dup2: @escaping @convention(c) (Int32, Int32) -> Int32,
        dup3: @escaping @convention(c) (Int32, Int32, Int32) -> Int32,
        open: @escaping @convention(c) (UnsafePointer<CChar>?, Int32, mode_t) -> Int32,
        openat: @escaping @convention(c) (Int32, UnsafePointer<CChar>?, Int32, mode_t) -> Int32,
        ppoll: @escaping @convention(c) (UnsafeMutablePointer<pollfd>?, nfds_t, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32,
        pselect: @escaping @convention(c) (Int32, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafeMutablePointer<fd_set>?, UnsafePointer<timespec>?, UnsafePointer<sigset_t>?) -> Int32
    ) {
        self.socket = socket
        self.socketpair = socketpair
        self.connect = connect
        self.listen = listen
        self.accept = accept
        self.accept4 = accept4
        self.shutdown = shutdown
        self.close = close
        self.read = read
        self.readv = readv
        self.recv = recv
        self.recvfrom = recvfrom
        self.recvmsg = recvmsg
        self.pread = pread
        self.preadv = preadv
        self.write = write
        self.writev = writev
        self.send = send
        self.sendto = sendto
        self.sendmsg = sendmsg
        self.pwrite = pwrite
        self.pwritev = pwritev
        self.fcntl = fcntl
        self.ioctl = ioctl
        self.getsockopt = getsockopt
        self.setsockopt = setsockopt
        self.dup = dup
        self.dup2 = dup2
        self.dup3 = dup3
        self.open = open
        self.openat = openat
        self.ppoll = ppoll
        self.pselect = pselect
    }

    /// The table of libc's names as `scope` resolves them.
    public init(symbolsIn scope: SymbolScope) {
        let fcntl: @convention(c) (Int32, Int32, Int) -> Int32 = scope.function("fcntl")
        let ioctl: @convention(c) (Int32, UInt, UnsafeMutableRawPointer?) -> Int32 = scope.function("ioctl")
        self.init(
            socket: scope.function("socket"),
            socketpair: scope.function("socketpair"),
            connect: scope.function("connect"),
            listen: scope.function("listen"),
            accept: scope.function("accept"),
            accept4: scope.function("accept4"),
            shutdown: scope.function("shutdown"),
            close: scope.function("close"),
            read: scope.function("read"),
            readv: scope.function("readv"),
            recv: scope.function("recv"),
            recvfrom: scope.function("recvfrom"),
            recvmsg: scope.function("recvmsg"),
            pread: scope.function("pread"),
            preadv: scope.function("preadv"),
            write: scope.function("write"),
            writev: scope.function("writev"),
            send: scope.function("send"),
            sendto: scope.function("sendto"),
            sendmsg: scope.function("sendmsg"),
            pwrite: scope.function("pwrite"),
            pwritev: scope.function("pwritev"),
            fcntl: { fcntl($0, $1, $2) },
            ioctl: { ioctl($0, $1, $2) },
            getsockopt: scope.function("getsockopt"),
            setsockopt: scope.function("setsockopt"),
            dup: scope.function("dup"),
            dup2: scope.function("dup2"),
            dup3: scope.function("dup3"),
            open: scope.function("open"),
            openat: scope.function("openat"),
            ppoll: scope.function("ppoll"),
            pselect: scope.function("pselect")
        )
    }

    /// libc's own functions, looked up in libc itself, so that an interposing library could
    /// never answer in their place.
    public static let libc = DescriptorCalls(symbolsIn: .libc)
}

/// Where a table looks up libc's names.
public enum SymbolScope: Sendable {
    /// libc itself: its own functions, whoever interposes them.
    case libc
    /// The process's global scope: the definitions every library's calls bind to, an
    /// interposing library's where one comes before libc.
    case global

    /// The function `name` as this scope resolves it.
    public func function<Function>(_ name: String, as _: Function.Type = Function.self) -> Function {
        let handle = switch self {
        case .libc: dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD)
        // RTLD_DEFAULT, which Swift does not import.
        case .global: UnsafeMutableRawPointer(bitPattern: 0)
        }
        guard let symbol = dlsym(handle, name) else {
            fatalError("\(self) has no \(name)")
        }
        return unsafeBitCast(symbol, to: Function.self)
    }
}
