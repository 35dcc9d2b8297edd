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
    let (normalized, note) = normalizing(b, toLayoutOf: a, heads: heads)
    var report = try compare(a, normalized, tolerance: tolerance)
    report.note = note
    return report
  }

  /// `b` in `a`'s layout when the two differ and the converter maps `b` exactly (lazily: a
  /// tensor is converted when it is loaded), else `b` as stored; with a note saying which,
  /// `nil` when the layouts agree. The note calls them `names` (`b`'s first).
  static func normalizing(
    _ b: Checkpoint, toLayoutOf a: Checkpoint, heads: Int?, names: (b: String, a: String) = ("B", "A")
  ) -> (Checkpoint, String?) {
    let layoutA = LayoutConverter.detect(a).layout
    let layoutB = LayoutConverter.detect(b).layout
    guard layoutA != layoutB, layoutA != .unknown, layoutB != .unknown else {
      return (
        b,
        layoutA != layoutB ? "layouts \(layoutA.rawValue) and \(layoutB.rawValue): compared as stored" : nil
      )
    }
    do {
      let normalized = try LayoutConverter.convert(
        b, from: layoutB, to: layoutA, options: ConversionOptions(heads: heads))
      return (
        normalized,
        "B converted from \(layoutB.rawValue) to A's layout (\(layoutA.rawValue)) before comparing"
      )
    } catch let error as CheckpointError {
      return (
        b,
        "\(names.b) (\(layoutB.rawValue)) could not be converted to \(names.a)'s layout (\(layoutA.rawValue)): "
          + "\(error.message); "
          + "compared as stored"
      )
    } catch {
      return (b, "\(names.b) could not be converted to \(names.a)'s layout: \(error); compared as stored")
    }
  }
}
