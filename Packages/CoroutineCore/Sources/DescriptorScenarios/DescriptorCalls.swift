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
        self.ppoll = ppoll
        self.pselect = pselect
    }

    /// The table of libc's names as `dlsym(handle, name)` finds them: in one library for a
    /// handle from `dlopen`, in the process's global scope (whoever interposes) for a nil handle.
    public init(symbolsIn handle: UnsafeMutableRawPointer?) {
        func function<Function>(_ name: String, as _: Function.Type = Function.self) -> Function {
            guard let symbol = dlsym(handle, name) else {
                fatalError("no \(name) in the library searched")
            }
            return unsafeBitCast(symbol, to: Function.self)
        }
        let fcntl: @convention(c) (Int32, Int32, Int) -> Int32 = function("fcntl")
        let ioctl: @convention(c) (Int32, UInt, UnsafeMutableRawPointer?) -> Int32 = function("ioctl")
        self.init(
            socket: function("socket"),
            socketpair: function("socketpair"),
            connect: function("connect"),
            listen: function("listen"),
            accept: function("accept"),
            accept4: function("accept4"),
            shutdown: function("shutdown"),
            close: function("close"),
            read: function("read"),
            readv: function("readv"),
            recv: function("recv"),
            recvfrom: function("recvfrom"),
            recvmsg: function("recvmsg"),
            pread: function("pread"),
            preadv: function("preadv"),
            write: function("write"),
            writev: function("writev"),
            send: function("send"),
            sendto: function("sendto"),
            sendmsg: function("sendmsg"),
            pwrite: function("pwrite"),
            pwritev: function("pwritev"),
            fcntl: { fcntl($0, $1, $2) },
            ioctl: { ioctl($0, $1, $2) },
            getsockopt: function("getsockopt"),
            setsockopt: function("setsockopt"),
            dup: function("dup"),
            dup2: function("dup2"),
            dup3: function("dup3"),
            ppoll: function("ppoll"),
            pselect: function("pselect")
        )
    }

    /// libc's own functions, looked up in libc itself, so that an interposing library could
    /// never answer in their place.
    public static let libc = DescriptorCalls(symbolsIn: dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD))
}
