import CheckpointCore
import Dispatch

/// Splits work over the machine's cores with `DispatchQueue.concurrentPerform`.
public enum ParallelChunks {
  /// The number of worker threads used: `Processors.threads`.
  public static let workers = Processors.threads

  /// Calls `body` on contiguous ranges covering `0..<units`, in parallel when there is at
  /// least `minimumUnits` units per range; returns after every range is done.
  public static func run(units: Int, minimumUnits: Int = 1, _ body: (Range<Int>) -> Void) {
    guard units > 0 else { return }
    let chunks = max(1, min(workers * 4, units / max(1, minimumUnits)))
    guard chunks > 1 else {
      body(0..<units)
      return
    }
    withoutActuallyEscaping(body) { body in
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let lower = units * chunk / chunks
        let upper = units * (chunk + 1) / chunks
        if lower < upper { body(lower..<upper) }
      }
    }
  }
}
