import CheckpointCore
import Foundation

/// One tensor's line in the quantization report.
public struct TensorQuantizationReport: Sendable {
  /// The tensor's name.
  public var name: String
  /// The dtype it had.
  public var dtypeIn: DType
  /// The dtype it has now.
  public var dtypeOut: DType
  /// The error of the dequantized values against the original (zero error when kept).
  public var statistics: QuantizationLoss
  /// Why the tensor was kept as it was; `nil` when quantized.
  public var keptReason: String?

  /// The tensor's report as JSON (`name`, `dtype_in`, `dtype_out`, `rmse`, `max_abs_error`,
  /// `snr_db` (`null` when the error is zero), and `kept_reason` for kept tensors).
  public var json: JSONValue {
    var members: [(String, JSONValue)] = [
      ("name", .string(name)),
      ("dtype_in", .string(dtypeIn.name)),
      ("dtype_out", .string(dtypeOut.name)),
      ("rmse", .double(statistics.rmse)),
      ("max_abs_error", .double(statistics.maxAbsError)),
      ("snr_db", statistics.snrDB.isFinite ? .double(statistics.snrDB) : .null),
    ]
    if let keptReason { members.append(("kept_reason", .string(keptReason))) }
    return .object(members)
  }
}

/// The per-tensor report of a quantization, filled in as tensors are quantized.
public final class QuantizationReport: @unchecked Sendable {
  /// The scheme.
  public let scheme: QuantizationScheme
  private let lock = NSLock()
  private var order: [String] = []
  private var entries: [String: TensorQuantizationReport] = [:]

  /// Creates an empty report listing `names` in order.
  public init(scheme: QuantizationScheme, names: [String]) {
    self.scheme = scheme
    self.order = names
  }

  /// Records one tensor's line.
  public func record(_ entry: TensorQuantizationReport) {
    lock.lock()
    entries[entry.name] = entry
    lock.unlock()
  }

  /// The lines recorded so far, in checkpoint order.
  public var tensors: [TensorQuantizationReport] {
    lock.lock()
    defer { lock.unlock() }
    return order.compactMap { entries[$0] }
  }

  /// The error over all quantized tensors together.
  public var total: QuantizationLoss {
    var total = QuantizationLoss()
    for entry in tensors where entry.keptReason == nil { total.merge(entry.statistics) }
    return total
  }
}
