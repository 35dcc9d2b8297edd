import CheckpointConversion
import CheckpointCore

extension TensorDiff {
  /// Compares `b` against `a` after converting `b` into `a`'s layout when the two differ
  /// (`CheckpointConversion/LayoutConverter`), so a PyTorch checkpoint and its Keras or
  /// Hugging Face conversion compare tensor by tensor under `a`'s names.
  ///
  /// When the layouts agree, or either is not recognised, or the converter cannot map `b`
  /// exactly (it refuses what has no exact mapping), the tensors are compared as stored and
  /// the report's note says why.
  ///
  /// - Parameters:
  ///   - a: the reference, whose names the report uses.
  ///   - b: the candidate.
  ///   - tolerance: what counts as close.
  ///   - heads: attention heads, for converting packed PyTorch attention to Keras kernels.
  /// - Throws: `CheckpointError` when a tensor's bytes cannot be read.
  public static func compareNormalizingLayout(
    _ a: Checkpoint, _ b: Checkpoint, tolerance: Tolerance? = nil, heads: Int? = nil
  ) throws -> Report {
    let layoutA = LayoutConverter.detect(a).layout
    let layoutB = LayoutConverter.detect(b).layout
    guard layoutA != layoutB, layoutA != .unknown, layoutB != .unknown else {
      var report = try compare(a, b, tolerance: tolerance)
      if layoutA != layoutB {
        report.note = "layouts \(layoutA.rawValue) and \(layoutB.rawValue): compared as stored"
      }
      return report
    }
    let normalized: Checkpoint
    do {
      normalized = try LayoutConverter.convert(
        b, from: layoutB, to: layoutA, options: ConversionOptions(heads: heads))
    } catch let error as CheckpointError {
      var report = try compare(a, b, tolerance: tolerance)
      report.note =
        "B (\(layoutB.rawValue)) could not be converted to A's layout (\(layoutA.rawValue)): \(error.message); "
        + "compared as stored"
      return report
    }
    var report = try compare(a, normalized, tolerance: tolerance)
    report.note = "B converted from \(layoutB.rawValue) to A's layout (\(layoutA.rawValue)) before comparing"
    return report
  }
}
