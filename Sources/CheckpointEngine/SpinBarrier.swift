internal import CBLAS
import Foundation

/// A barrier for a few threads that meet every few hundred microseconds (the steps of a
/// recurrence): it spins briefly before sleeping, where a condition variable would put each
/// waiting thread to sleep and wake it again at every step.
final class SpinBarrier: @unchecked Sendable {
  private let parties: Int
  private let state: UnsafeMutablePointer<Int32>

  init(parties: Int) {
    self.parties = parties
    state = .allocate(capacity: 3)
    state.initialize(repeating: 0, count: 3)
  }

  deinit { state.deallocate() }

  /// Blocks until all parties have called it.
  func wait() {
    guard parties > 1 else { return }
    checkpointkit_barrier_wait(state, Int32(parties))
  }

  /// Runs `body(party)` for every party at once, each on a thread of its own (party 0 on the
  /// caller's), and returns when all are done. Own threads, not a pool: every party must run,
  /// since each waits for the others at the barrier.
  static func run(parties: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for party in 1..<max(1, parties) {
      done.enter()
      let thread = Thread {
        body(party)
        done.leave()
      }
      thread.start()
    }
    body(0)
    done.wait()
  }
}
