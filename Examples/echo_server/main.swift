// echo_server: the echo server of the NtyCo lecture (the seed document on NtyCo). It listens
// on 100 consecutive ports of 127.0.0.1, from a random base below the kernel's ephemeral range
// (the search starts over when a port of the run is taken), with one coroutine accepting on
// each port and one coroutine per client reading and writing back, all plain blocking Glibc
// calls. Every 1,000
// accepted clients it prints how long that thousand took, as the lecture's server does. It
// stops after --seconds (30 unless given), ending the connections still open. Drive it with
// echo_client; echo_demo runs both in one process.
//
// Prints:
//   server: listening on 127.0.0.1 ports <base>-<base + 99>, one coroutine accepting on each
//   server: 1000 clients accepted, the last 1000 in <time>
//   ... one line per thousand clients
//   server: stopped after <seconds> s and <n> clients
import CoroutineCore
import CoroutineExampleSupport
import ExampleSupport
import Glibc
import OpenCoroutine

exampleMain(usage: "echo_server [--seconds S]", options: ["--seconds"]) { arguments in
    let seconds = try arguments.integer("--seconds", default: 30, in: 1...86_400)
    // A descriptor per client, and clients may come by the thousands.
    try OpenFileLimit.raise()
    try withCoroutines {
        let server = try EchoServer()
        print("server: listening on 127.0.0.1 ports \(server.ports.lowerBound)-\(server.ports.upperBound), one coroutine accepting on each")
        flushOutput()
        // The main thread is not a task: this sleep is the kernel's, while the tasks serve.
        sleep(UInt32(seconds))
        print("server: stopped after \(seconds) s and \(server.stop()) clients")
    }
}
