import Foundation
import HiredisSupport
import Testing

extension SharedRuntimeTests {
    /// The examples of Docs/examples.md, run as a user would: each must exit by itself with status
    /// 0, within a time limit, and print what the document says. One at a time, and never beside
    /// the in-process runtime tests: several of them time their own work.
    @Suite struct DocumentedExamplesTests {
        @Test func sleepCoSleepsAThousandTasksAtOnce() throws {
            let start = Date()
            let output = try runExample("sleep_co", timeout: 20)
            let elapsed = Date().timeIntervalSince(start)
            #expect(output.contains("1000 tasks slept 1 s each (500 with sleep, 500 with usleep) on 2 threads"))
            #expect(output.contains("all 1000 woke after"))
            #expect(elapsed < 4, "1,000 sleeps of 1 s in tasks took \(elapsed) s; together they take about 1 s")
        }

        @Test func sleepNotCoHoldsAThreadPerSleep() throws {
            let start = Date()
            let output = try runExample("sleep_not_co", timeout: 20)
            let elapsed = Date().timeIntervalSince(start)
            #expect(output.contains("4 tasks slept 1 s each with the hooks off on 2 threads"))
            #expect(output.contains("all 4 woke after"))
            #expect(elapsed > 1.9, "4 blocking sleeps of 1 s on 2 threads took only \(elapsed) s")
        }

        @Test func socketCoTalksOverTCPInOneProcess() throws {
            expectThreeConversations(in: try runExample("socket_co", timeout: 20))
        }

        @Test func socketNotCoTalksOverTCPOnThreads() throws {
            expectThreeConversations(in: try runExample("socket_not_co", timeout: 20))
        }

        @Test func socketCoClientTalksToSocketCoServer() throws {
            let server = try BackgroundExample("socket_co_server")
            let listening = try server.line(containing: "server: listening on 127.0.0.1:")
            let port = try #require(listening.split(separator: ":").last.flatMap { UInt16($0) }, "no port in \(listening)")
            let client = try runExample("socket_co_client", arguments: ["\(port)"], timeout: 20)
            let (status, served) = server.finish(timeout: 10)
            #expect(status == 0)
            expectThreeConversations(in: client + served)
        }

        @Test(arguments: ["file_co", "file_not_co"])
        func fileExamplesWriteSyncAndReadBackInTasks(_ name: String) throws {
            let output = try runExample(name, timeout: 60)
            #expect(output.contains("64 tasks wrote, synced and read back 67108864 bytes on 2 threads in"))
            #expect(output.contains(name == "file_co" ? "waited for the disk together" : "they waited two at a time"))
        }

        @Test func scalableStackRecursesFarBeyondTheTaskStack() throws {
            let output = try runExample("scalable_stack", timeout: 30)
            for task in 1...3 {
                #expect(output.contains(try Regex("task \(task) recursed 50000 calls deep from a 32 KiB stack, on [1-9][0-9]* grown stacks")))
            }
        }

        @Test func echoClientLoadsEchoServerOnAHundredPorts() throws {
            let server = try BackgroundExample("echo_server", arguments: ["--seconds", "4"])
            let listening = try server.line(containing: "server: listening on 127.0.0.1 ports")
            let ports = try #require(listening.firstMatch(of: /ports (\d+)-(\d+)/), "no ports in \(listening)")
            #expect(Int(ports.2).map { $0 - (Int(ports.1) ?? 0) } == 99)
            let client = try runExample(
                "echo_client", arguments: ["\(ports.1)", "--connections", "1000", "--seconds", "1"], timeout: 20)
            expectLoadReport(in: client, connections: 1000)
            let (status, served) = server.finish(timeout: 20)
            #expect(status == 0)
            #expect(served.contains("server: 1000 clients accepted, the last 1000 in"))
            #expect(served.contains("server: stopped after 4 s and 1000 clients"))
        }

        @Test func echoDemoRunsServerAndClientInOneProcess() throws {
            let output = try runExample("echo_demo", arguments: ["--connections", "1000", "--seconds", "1"], timeout: 30)
            #expect(output.contains("server: listening on 127.0.0.1 ports"))
            #expect(output.contains("server: 1000 clients accepted, the last 1000 in"))
            expectLoadReport(in: output, connections: 1000)
            #expect(output.contains("server: stopped after 1000 clients"))
        }

        @Test(.enabled(if: RedisServer.executable != nil, "redis-server is not installed (make test installs it)"))
        func redisDemoRunsHiredisFromTasks() throws {
            let start = Date()
            let output = try runExample("redis_demo", timeout: 30)
            let elapsed = Date().timeIntervalSince(start)
            #expect(output.contains("200 tasks, each on its own connection: SET, GET, INCR, then a BLPOP waiting 0.5 s"))
            #expect(output.contains("every GET returned its SET: yes"))
            #expect(output.contains("counter: 200\n"))
            #expect(elapsed < 10, "200 overlapping BLPOPs of 0.5 s took \(elapsed) s")
            // The demo uses a redis-server already on 6379 when there is one, else starts its own,
            // which it must stop: exactly one of the two, said.
            let found = output.contains("using the redis-server on 127.0.0.1:6379\n")
            if let started = output.firstMatch(of: /started redis-server on 127.0.0.1:(\d+)\n/) {
                #expect(!found, "both started and found a server: \(output)")
                let port = try #require(UInt16(started.1), "no port in \(started.0)")
                #expect(output.contains("stopped the redis-server it started"))
                #expect((try? RedisConnection(port: port)) == nil, "the redis-server on port \(port) still runs")
            } else {
                #expect(found, "neither started nor found a server: \(output)")
            }
        }
    }
}

/// Checks the three conversations of the socket examples: clients 1 to 3 each got every line
/// answered, and the server answered 3 lines on each connection.
private func expectThreeConversations(in output: String) {
    for client in 1...3 {
        for message in ["hello", "how are you?", "bye"] {
            #expect(output.contains("client \(client) sent \"\(message)\", got \"echo: \(message)\""))
        }
        #expect(output.contains("server: answered 3 lines of connection \(client)"))
    }
}

/// Checks the report of the echo load client: every connection made, and a nonzero figure for
/// requests and each latency.
private func expectLoadReport(in output: String, connections: Int) {
    #expect(output.contains("client: \(connections) connections across ports"))
    #expect(output.contains(/client: [1-9]\d* requests in [^:]+: [1-9]\d* requests\/s/))
    #expect(output.contains(/client: latency p50 [0-9.]+ [mµ]?s, p90 [0-9.]+ [mµ]?s, p99 [0-9.]+ [mµ]?s, max [0-9.]+ [mµ]?s/))
}
