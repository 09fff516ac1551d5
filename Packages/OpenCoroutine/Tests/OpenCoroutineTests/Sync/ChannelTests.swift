import CoroutineCore
import Foundation
import OpenCoroutine
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct ChannelTests {
    @Test(arguments: [-1, -100])
    func aNegativeCapacityIsRefused(_ capacity: Int) {
        #expect(throws: ChannelError.invalidCapacity(capacity)) { try Channel<Int>(capacity: capacity) }
    }

    /// Capacity 0 is a rendezvous: a send waits until a receiver takes its element.
    @Test func aRendezvousSendWaitsForItsReceiver() throws {
        let channel = try Channel<Int>(capacity: 0)
        let start = ContinuousClock.now
        #expect(try !channel.send(1, timeout: .milliseconds(30)))
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        let received = Atomic<Int>(0)
        let receiver = Thread {
            usleep(50_000)
            received.store((try? channel.receive()).flatMap { $0 } ?? -1, ordering: .releasing)
        }
        receiver.start()
        let sendStart = ContinuousClock.now
        try channel.send(7)
        // The send returned only once the receiver, 50 ms later, had taken the element.
        #expect(ContinuousClock.now - sendStart >= .milliseconds(40))
        while received.load(ordering: .acquiring) == 0 { usleep(1_000) }
        #expect(received.load(ordering: .acquiring) == 7)
        #expect(try !channel.send(2, timeout: .milliseconds(10)))
    }

    @Test func aBoundedChannelKeepsOrderAndWaitsWhenFull() throws {
        let channel = try Channel<Int>(capacity: 3)
        for n in 1...3 {
            try channel.send(n)
        }
        let start = ContinuousClock.now
        #expect(try !channel.send(4, timeout: .milliseconds(30)))
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        #expect(try channel.receive() == 1)
        #expect(try channel.send(4, timeout: .milliseconds(30)))
        channel.close()
        #expect(Array(channel) == [2, 3, 4])
        #expect(try channel.receive() == nil)
    }

    @Test func sendingOnAClosedChannelThrows() {
        let channel = Channel<String>()
        channel.close()
        channel.close()
        #expect(channel.isClosed)
        #expect(throws: ChannelError.closed) { try channel.send("late") }
        #expect(ChannelError.closed.description == "send on a closed channel")
    }

    @Test func anUnboundedChannelNeverWaits() throws {
        let channel = Channel<Int>()
        #expect(channel.capacity == nil)
        for n in 0..<10_000 {
            try channel.send(n)
        }
        channel.close()
        #expect(Array(channel) == Array(0..<10_000))
    }
}

extension RuntimeTests {
    @Suite(.timeLimit(.minutes(1))) struct ChannelRuntimeTests {
        /// Tasks pass every element of a rendezvous channel exactly once, in order per sender,
        /// through receives and selects.
        @Test func aRendezvousChannelDeliversEveryElementOnce() throws {
            let channel = try Channel<Int>(capacity: 0)
            let total = Atomic<Int>(0)
            let count = Atomic<Int>(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let senders = try (0..<4).map { sender in
                    try co {
                        for value in 1...500 { try channel.send(sender * 1_000 + value) }
                    }
                }
                let receivers = try (0..<4).map { index in
                    try co {
                        while true {
                            let value: Int?
                            if index % 2 == 0 {
                                value = try channel.receive()
                            } else {
                                value = try Select<Int?>().receive(from: channel) { $0 }.wait()
                            }
                            guard let value else { return }
                            total.add(value, ordering: .relaxed)
                            count.add(1, ordering: .relaxed)
                        }
                    }
                }
                for sender in senders { try sender.join() }
                channel.close()
                for receiver in receivers { try receiver.join() }
            }
            #expect(count.load(ordering: .relaxed) == 2_000)
            let expected = (0..<4).reduce(0) { sum, sender in sum + (1...500).reduce(0) { $0 + sender * 1_000 + $1 } }
            #expect(total.load(ordering: .relaxed) == expected)
        }

        @Test func manyProducersAndConsumersLoseAndDuplicateNothing() throws {
            let channel = try Channel<Int>(capacity: 16)
            let producers = 100
            let items = 1_000
            let received = try withCoroutines(Config(threads: 2, hooks: false)) {
                let consumers = try (0..<50).map { _ in
                    try co { Array(channel) }
                }
                let senders = try (0..<producers).map { producer in
                    try co {
                        for item in 0..<items {
                            try channel.send(producer * items + item)
                        }
                    }
                }
                for sender in senders {
                    try sender.join()
                }
                channel.close()
                return try consumers.map { try $0.join() }
            }
            #expect(received.joined().sorted() == Array(0..<producers * items))
            // One consumer sees each producer's items in the order they were sent.
            for items in received {
                let byProducer = Dictionary(grouping: items) { $0 / 1_000 }
                #expect(byProducer.values.allSatisfy { $0 == $0.sorted() })
            }
        }

        @Test func closingWakesWaitingReceiversAndSenders() throws {
            let empty = try Channel<Int>(capacity: 1)
            let full = try Channel<Int>(capacity: 1)
            try full.send(0)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let receivers = try (0..<5).map { _ in try co { try empty.receive() } }
                let sender = try co { try full.send(1) }
                try Scheduler.sleep(for: .milliseconds(20))
                empty.close()
                full.close()
                for receiver in receivers {
                    #expect(try receiver.join() == nil)
                }
                #expect(throws: ChannelError.closed) { try sender.join() }
                #expect(try full.receive() == 0)
                #expect(try full.receive() == nil)
            }
        }

        @Test func aCancelledReceiverThrowsAndLosesNothing() throws {
            let channel = try Channel<Int>(capacity: 4)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let receiver = try co { try channel.receive() }
                try Scheduler.sleep(for: .milliseconds(20))
                receiver.cancel()
                #expect(throws: CoroutineError.cancelled) { try receiver.join() }
                try channel.send(7)
                #expect(try channel.receive() == 7)
            }
        }

        @Test func aCancelledSenderThrowsAndDoesNotSend() throws {
            let channel = try Channel<Int>(capacity: 1)
            try channel.send(1)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let sender = try co { try channel.send(2) }
                try Scheduler.sleep(for: .milliseconds(20))
                sender.cancel()
                #expect(throws: CoroutineError.cancelled) { try sender.join() }
                channel.close()
                #expect(Array(channel) == [1])
            }
        }

        @Test func plainThreadsAndTasksTradeBothWays() throws {
            let requests = try Channel<Int>(capacity: 1)
            let replies = try Channel<Int>(capacity: 1)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let server = try co {
                    for request in requests {
                        try replies.send(request * 2)
                    }
                    replies.close()
                }
                for n in 1...100 {
                    try requests.send(n)
                    #expect(try replies.receive() == n * 2)
                }
                requests.close()
                try server.join()
                #expect(try replies.receive() == nil)
            }
        }
    }
}
