import ArgumentParser
import CheckpointCore
import CheckpointKit
import CheckpointQuantization
import Foundation

extension Ckpt {
  /// `ckpt __quantize-kernels FILE --scheme S` (hidden): times the quantization kernels alone
  /// on a checkpoint's tensors already in memory, for Benchmarks/bench_quantize.py (the same
  /// work as gguf-py's `quants.quantize` on arrays in memory). Prints JSON.
  struct QuantizeKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "__quantize-kernels", shouldDisplay: false)

    @Argument var input: String
    @Option var scheme: QuantizationScheme
    @Option var repeats = 5

    func run() throws {
      let checkpoint = try FormatRegistry.read(path: input)
      // Load every tensor into heap memory first (not timed).
      let tensors = try checkpoint.tensors.map { tensor -> (Tensor, TensorBytes) in
        let bytes = try tensor.load()
        return (tensor, bytes.withUnsafeBytes { TensorBytes($0) })
      }
      var best = Double.infinity
      var bestCPU = Double.infinity
      var outputBytes = 0
      for _ in 0..<max(1, repeats) {
        let started = Date()
        let cpu = QuantizeKernels.cpuSeconds()
        outputBytes = 0
        for (tensor, bytes) in tensors {
          let output = try TensorQuantizer.quantize(
            bytes, dtype: tensor.dtype, shape: tensor.shape, scheme: scheme)
          outputBytes += output.bytes.count
        }
        best = min(best, Date().timeIntervalSince(started))
        bestCPU = min(bestCPU, QuantizeKernels.cpuSeconds() - cpu)
      }
      let inputBytes = tensors.reduce(0) { $0 + $1.1.count }
      emit(
        JSONValue.object([
          ("scheme", .string(scheme.rawValue)), ("seconds", .double(best)), ("cpu_seconds", .double(bestCPU)),
          ("bytes_in", .integer(Int64(inputBytes))), ("bytes_out", .integer(Int64(outputBytes))),
          ("threads", .integer(Int64(ParallelChunks.workers))),
        ]).compactText)
    }

    /// User plus system CPU time of this process so far, all threads.
    static func cpuSeconds() -> Double {
      Double(clock()) / Double(CLOCKS_PER_SEC)
    }
  }
}
