import CoroutineCore
import OpenCoroutine
import Synchronization
import Testing

/// What a select in these tests received, and from where.
private enum Delivery: Equatable {
    case number(Int?)
    case word(String?)
}

@Suite(.timeLimit(.minutes(1))) struct SelectTests {
    @Test func receivesFromTheChannelThatHasAnElement() throws {
        let numbers = Channel<Int>()
        let words = Channel<String>()
        try words.send("ready")
        let select = Select<Delivery>()
            .receive(from: numbers) { .number($0) }
            .receive(from: words) { .word($0) }
        #expect(try select.wait() == .word("ready"))
        try numbers.send(1)
        try words.send("later")
        // Both ready: the first added wins, and the other keeps its element.
        #expect(try select.wait() == .number(1))
        #expect(try words.receive() == "later")
    }

    @Test func aTimeoutReturnsNilAndTakesNothing() throws {
        let numbers = try Channel<Int>(capacity: 1)
        let start = ContinuousClock.now
        let delivery = try Select<Delivery>().receive(from: numbers) { .number($0) }.wait(timeout: .milliseconds(30))
        #expect(delivery == nil)
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        try numbers.send(5)
        #expect(try numbers.receive() == 5)
    }

    @Test func aClosedChannelDeliversNil() throws {
        let numbers = Channel<Int>()
        let words = Channel<String>()
        words.close()
        let delivery = try Select<Delivery>()
            .receive(from: numbers) { .number($0) }
            .receive(from: words) { .word($0) }
            .wait(timeout: .seconds(5))
        #expect(delivery == .word(nil))
    }
}

extension RuntimeTests {
    @Suite(.timeLimit(.minutes(1))) struct SelectRuntimeTests {
        @Test func aWaitingTaskGetsTheFirstElementSentToAnyChannel() throws {
            let numbers = Channel<Int>()
            let words = Channel<String>()
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiter = try co {
                    try Select<Delivery>()
                        .receive(from: numbers) { .number($0) }
                        .receive(from: words) { .word($0) }
                        .wait()
                }
                try Scheduler.sleep(for: .milliseconds(20))
                try words.send("hello")
                #expect(try waiter.join() == .word("hello"))
                // The select left no receiver behind in the channel it did not use.
                try numbers.send(3)
                #expect(try numbers.receive() == 3)
            }
        }

        @Test func selectingConsumersReceiveEveryElementOnce() throws {
            let evens = try Channel<Int>(capacity: 4)
            let odds = try Channel<Int>(capacity: 4)
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let consumers = try (0..<10).map { _ in
                    try co { () throws -> [Int] in
                        var received: [Int] = []
                        var open = [evens, odds]
                        while !open.isEmpty {
                            let select = open.reduce(Select<(Channel<Int>, Int?)>()) { select, channel in
                                select.receive(from: channel) { (channel, $0) }
                            }
                            let (channel, element) = try select.wait()
                            if let element {
                                received.append(element)
                            } else {
                                open.removeAll { $0 === channel }
                            }
                        }
                        return received
                    }
                }
                let producers = try (0..<20).map { producer in
                    try co {
                        for n in stride(from: producer * 1_000, to: (producer + 1) * 1_000, by: 1) {
                            try (n.isMultiple(of: 2) ? evens : odds).send(n)
                        }
                    }
                }
                for producer in producers {
                    try producer.join()
                }
                evens.close()
                odds.close()
                let received = try consumers.flatMap { try $0.join() }
                #expect(received.sorted() == Array(0..<20_000))
            }
        }

        @Test func aCancelledTaskInASelectThrows() throws {
            let numbers = Channel<Int>()
            let words = Channel<String>()
            try withCoroutines(Config(threads: 2, hooks: false)) {
                let waiter = try co {
                    try Select<Delivery>()
                        .receive(from: numbers) { .number($0) }
                        .receive(from: words) { .word($0) }
                        .wait(timeout: .seconds(30))
                }
                try Scheduler.sleep(for: .milliseconds(20))
                waiter.cancel()
                #expect(throws: CoroutineError.cancelled) { try waiter.join() }
                try words.send("kept")
                #expect(try words.receive() == "kept")
            }
        }
    }
}
