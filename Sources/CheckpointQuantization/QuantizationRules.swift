import CheckpointCore
import Foundation

/// Which tensors a scheme quantizes and why the others stay as they are.
///
/// Default rules, in order: tensors that are not F32/F16/BF16/F64 are kept (integers, bool,
/// FP8, already block-quantized); names matching `--exclude` are kept; 0-d and 1-D tensors
/// (biases, norms, scalars) stay float; Q8_0/Q4_0 need a last dimension that is a multiple
/// of 32; a tensor already in the target dtype is kept.
public struct QuantizationRules: Sendable {
  /// The scheme.
  public var scheme: QuantizationScheme
  /// The `--exclude` regular expression (matched anywhere in the name), if any.
  public var exclude: String?
  private let excludeExpression: NSRegularExpression?

  /// Creates rules; throws `.invalidArgument` for an invalid regular expression.
  public init(scheme: QuantizationScheme, exclude: String? = nil) throws {
    self.scheme = scheme
    self.exclude = exclude
    if let exclude {
      do {
        excludeExpression = try NSRegularExpression(pattern: exclude)
      } catch {
        throw CheckpointError(.invalidArgument, "--exclude '\(exclude)' is not a valid regular expression")
      }
    } else {
      excludeExpression = nil
    }
  }

  /// Why `info` is kept as it is, or `nil` when it is quantized.
  public func keptReason(for info: TensorInfo) -> String? {
    switch info.dtype {
    case .f32, .f16, .bf16, .f64: break
    case .q8_0, .q4_0: return "already \(info.dtype)"
    default: return "not a float tensor (\(info.dtype))"
    }
    if let excludeExpression {
      let range = NSRange(info.name.startIndex..<info.name.endIndex, in: info.name)
      if excludeExpression.firstMatch(in: info.name, range: range) != nil { return "excluded by --exclude" }
    }
    if info.shape.count < 2 { return "\(info.shape.count)-D tensor (biases, norms and scalars stay float)" }
    if scheme.isBlockQuantized, let last = info.shape.last, last % 32 != 0 {
      return "last dimension \(last) is not a multiple of 32"
    }
    if info.dtype == scheme.outputDType { return "already \(info.dtype)" }
    return nil
  }
}
