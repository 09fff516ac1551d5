import DescriptorScenarios
@testable import CoroutineCore

extension DescriptorCalls {
    /// The Syscall layer's calls.
    static let ours = DescriptorCalls(
        socket: { Syscall.socket($0, $1, $2) },
        socketpair: { Syscall.socketpair($0, $1, $2, $3) },
        connect: { Syscall.connect($0, $1, $2) },
        listen: { Syscall.listen($0, $1) },
        accept: { Syscall.accept($0, $1, $2) },
        accept4: { Syscall.accept4($0, $1, $2, $3) },
        shutdown: { Syscall.shutdown($0, $1) },
        close: { Syscall.close($0) },
        read: { Syscall.read($0, $1, $2) },
        readv: { Syscall.readv($0, $1, $2) },
        recv: { Syscall.recv($0, $1, $2, $3) },
        recvfrom: { Syscall.recvfrom($0, $1, $2, $3, $4, $5) },
        recvmsg: { Syscall.recvmsg($0, $1, $2) },
        pread: { Syscall.pread($0, $1, $2, $3) },
        preadv: { Syscall.preadv($0, $1, $2, $3) },
        write: { Syscall.write($0, $1, $2) },
        writev: { Syscall.writev($0, $1, $2) },
        send: { Syscall.send($0, $1, $2, $3) },
        sendto: { Syscall.sendto($0, $1, $2, $3, $4, $5) },
        sendmsg: { Syscall.sendmsg($0, $1, $2) },
        pwrite: { Syscall.pwrite($0, $1, $2, $3) },
        pwritev: { Syscall.pwritev($0, $1, $2, $3) },
        fcntl: { Syscall.fcntl($0, $1, $2) },
        ioctl: { Syscall.ioctl($0, $1, $2) },
        getsockopt: { Syscall.getsockopt($0, $1, $2, $3, $4) },
        setsockopt: { Syscall.setsockopt($0, $1, $2, $3, $4) },
        dup: { Syscall.dup($0) },
        dup2: { Syscall.dup2($0, $1) },
        dup3: { Syscall.dup3($0, $1, $2) },
        open: { Syscall.open($0, $1, $2) },
        openat: { Syscall.openat($0, $1, $2, $3) },
        ppoll: { Syscall.ppoll($0, $1, $2, $3) },
        pselect: { Syscall.pselect($0, $1, $2, $3, $4, $5) }
    )
}
