// Two small things stackful coroutines make easy: a generator written as a plain loop,
// and two coroutines playing ping-pong through a driver.
import CoroutineCore
import OpenCoroutine

/// Collatz steps from n down to 1, produced by an ordinary loop that yields.
func collatz(from start: Int) -> Generator<Int> {
    Generator { yield throws(CoroutineError) in
        var n = start
        try yield(n)
        while n != 1 {
            n = n.isMultiple(of: 2) ? n / 2 : 3 * n + 1
            try yield(n)
        }
    }
}

print("generator: collatz(6) =", collatz(from: 6).map(String.init).joined(separator: " "))

/// A player receives the ball's count and returns it one higher, until the rally ends.
func player(_ name: String, rally: Int) -> Coroutine<Int, Int, String> {
    Coroutine(name: name) { suspender, first in
        var ball = first
        while ball < rally {
            print("  \(name) hits \(ball)")
            ball = try suspender.suspend(with: ball + 1)
        }
        return "\(name) ends the rally at \(ball)"
    }
}

print("ping-pong:")
let players = [player("ping", rally: 6), player("pong", rally: 6)]
var ball = 0
var turn = 0
rally: while true {
    switch try players[turn % 2].resume(with: ball) {
    case .yielded(let next):
        ball = next
        turn += 1
    case .returned(let message):
        print(" ", message)
        break rally
    }
}
