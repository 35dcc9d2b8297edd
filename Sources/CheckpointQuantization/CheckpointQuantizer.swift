import CheckpointCore
import Foundation

/// Quantizes a checkpoint lazily: each output tensor is quantized when a writer loads it,
/// a few tensors ahead on other threads (and each tensor over its rows and blocks), and its
/// error is recorded in a ``QuantizationReport``.
///
/// int8 (per-output-channel) tensors become two tensors: `NAME` (I8, same shape) and
/// `NAME.scale` (F32, `[shape[0]]`); the metadata key ``int8TensorsKey`` lists the NAMEs as a
/// JSON array, so `value = Float(NAME[i, ...]) × NAME.scale[i]`. Every quantized checkpoint
/// records its scheme under ``schemeKey``.
public enum CheckpointQuantizer {
  /// The metadata key naming the scheme (`f16`, `bf16`, `int8`, `q8_0`, `q4_0`).
  public static let schemeKey = "ckpt.quantization"
  /// The metadata key listing int8-quantized tensors (JSON array of names).
  public static let int8TensorsKey = "ckpt.int8_tensors"
  /// The suffix of an int8 tensor's scale tensor.
  public static let scaleSuffix = ".scale"

  /// The quantized checkpoint (lazy) and the report its loads fill in.
  ///
  /// - Throws: `.duplicateName` when an int8 scale name is already taken.
  public static func quantize(_ checkpoint: Checkpoint, rules: QuantizationRules) throws -> (
    Checkpoint, QuantizationReport
  ) {
    let scheme = rules.scheme
    let report = QuantizationReport(scheme: scheme, names: checkpoint.tensors.map(\.name))
    var jobs: [Tensor] = []
    var plan: [(tensor: Tensor, job: Int?)] = []
    for tensor in checkpoint.tensors {
      if let reason = rules.keptReason(for: tensor.info) {
        report.record(
          TensorQuantizationReport(
            name: tensor.name, dtypeIn: tensor.dtype, dtypeOut: tensor.dtype, statistics: QuantizationLoss(),
            keptReason: reason))
        plan.append((tensor, nil))
      } else {
        plan.append((tensor, jobs.count))
        jobs.append(tensor)
      }
    }
    let pipeline = QuantizationPipeline(
      jobs: jobs, scheme: scheme, consumers: scheme == .int8 ? 2 : 1, report: report)
    var tensors: [Tensor] = []
    var int8Names: [JSONValue] = []
    for (tensor, job) in plan {
      guard let job else {
        tensors.append(tensor)
        continue
      }
      let info = TensorInfo(name: tensor.name, dtype: scheme.outputDType, shape: tensor.shape)
      let byteCount = try info.byteCount()
      tensors.append(Tensor(info: info, byteCount: byteCount) { try pipeline.output(job).bytes })
      if scheme == .int8 {
        let rows = tensor.shape.first ?? 1
        let scaleInfo = TensorInfo(name: tensor.name + scaleSuffix, dtype: .f32, shape: [rows])
        tensors.append(
          Tensor(info: scaleInfo, byteCount: rows * 4) {
            guard let scales = try pipeline.output(job).scales else {
              throw CheckpointError(.corrupt, "int8 quantization produced no scales")
            }
            return scales
          })
        int8Names.append(.string(tensor.name))
      }
    }
    var metadata = checkpoint.metadata
    metadata[schemeKey] = scheme.rawValue
    if scheme == .int8 { metadata[int8TensorsKey] = JSONValue.array(int8Names).compactText }
    return (try Checkpoint(format: checkpoint.format, tensors: tensors, metadata: metadata), report)
  }
}

/// Runs tensor quantizations a few ahead of the writer, on background threads.
final class QuantizationPipeline: @unchecked Sendable {
  private let jobs: [Tensor]
  private let scheme: QuantizationScheme
  private let consumers: Int
  private let report: QuantizationReport
  private let window = max(2, ParallelChunks.workers)
  private let condition = NSCondition()
  private var started = Set<Int>()
  private var results: [Int: Result<TensorQuantizer.Output, Error>] = [:]
  private var taken: [Int: Int] = [:]

  init(jobs: [Tensor], scheme: QuantizationScheme, consumers: Int, report: QuantizationReport) {
    self.jobs = jobs
    self.scheme = scheme
    self.consumers = consumers
    self.report = report
  }

  /// The output of job `index`, starting it and the next few if needed.
  func output(_ index: Int) throws -> TensorQuantizer.Output {
    condition.lock()
    defer { condition.unlock() }
    for job in index..<min(jobs.count, index + window) where !started.contains(job) {
      started.insert(job)
      DispatchQueue.global().async { self.run(job) }
    }
    while true {
      if let result = results[index] {
        let count = (taken[index] ?? 0) + 1
        taken[index] = count
        if count >= consumers {
          // Consumed: a later load runs the job again rather than waiting forever.
          results[index] = nil
          taken[index] = nil
          started.remove(index)
        }
        return try result.get()
      }
      condition.wait()
    }
  }

  private func run(_ index: Int) {
    let tensor = jobs[index]
    let result = Result<TensorQuantizer.Output, Error> {
      try CheckpointError.locating(tensor: tensor.name) {
        let bytes = try tensor.load()
        return try TensorQuantizer.quantize(bytes, dtype: tensor.dtype, shape: tensor.shape, scheme: scheme)
      }
    }
    if case .success(let output) = result {
      report.record(
        TensorQuantizationReport(
          name: tensor.name, dtypeIn: tensor.dtype, dtypeOut: scheme.outputDType,
          statistics: output.statistics,
          keptReason: nil))
    }
    condition.lock()
    results[index] = result
    condition.broadcast()
    condition.unlock()
  }
}
