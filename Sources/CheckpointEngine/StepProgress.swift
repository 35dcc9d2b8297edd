import Foundation

/// How many time steps of a sequence one thread has produced, for another thread to wait on.
///
/// A layer running ahead publishes its progress after each chunk of steps; the layer that
/// reads its output waits until the steps it needs are there. The lock orders the writes
/// of the published steps before the reads that follow the wait.
final class StepProgress: @unchecked Sendable {
  private let condition = NSCondition()
  private var steps = 0

  /// Records that the first `steps` steps are complete and wakes the waiting threads.
  func publish(_ steps: Int) {
    condition.lock()
    self.steps = steps
    condition.broadcast()
    condition.unlock()
  }

  /// Blocks until at least `steps` steps are complete.
  func wait(until steps: Int) {
    condition.lock()
    while self.steps < steps { condition.wait() }
    condition.unlock()
  }
}
