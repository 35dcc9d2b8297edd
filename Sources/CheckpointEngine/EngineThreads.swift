import Foundation

/// How many threads the engine's own parallel loops use: `OPENBLAS_NUM_THREADS`, else
/// `OMP_NUM_THREADS`, else the active processor count (so one setting governs BLAS and
/// the engine alike).
enum EngineThreads {
  static let count: Int = {
    let environment = ProcessInfo.processInfo.environment
    for key in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] {
      if let text = environment[key], let value = Int(text), value > 0 { return value }
    }
    return max(1, ProcessInfo.processInfo.activeProcessorCount)
  }()
}
