import CheckpointCore
import CheckpointEngine
import CheckpointQuantization

/// Tensor-by-tensor comparison of two checkpoints with the same names.
///
/// Tensors are paired by name (A's order, then names only in B). A pair is `identical` when
/// dtype, shape and bytes agree; otherwise, with equal shapes, both are decoded to float32
/// and compared element-wise (``ErrorStatistics``, ``Tolerance``). One tensor of each side
/// is loaded at a time.
public enum TensorDiff {
  /// The result of a comparison.
  public struct Report: Sendable {
    /// Every name, A's order first.
    public var tensors: [TensorDifference]
    /// The tolerance values were compared with.
    public var tolerance: Tolerance
    /// A note on how B was prepared (layout normalisation), if it was.
    public var note: String?

    /// Whether every tensor matches (identical, or close with the same dtype) and no name is on one side
    /// only.
    public var passed: Bool { tensors.allSatisfy(\.matches) }

    /// `{passed, tolerances, note?, tensors: [...], summary: {status: count}}`.
    public var json: JSONValue {
      var counts: [(String, JSONValue)] = []
      for status in [
        TensorDifference.Status.identical, .close, .different, .shapeMismatch, .incomparable, .onlyInA,
        .onlyInB,
      ] {
        counts.append((status.rawValue, .integer(Int64(tensors.filter { $0.status == status }.count))))
      }
      var members: [(String, JSONValue)] = [
        ("passed", .bool(passed)),
        (
          "tolerances",
          .object([
            ("dtype", .string(tolerance.dtype)), ("rtol", .double(tolerance.rtol)),
            ("atol", .double(tolerance.atol)),
          ])
        ),
      ]
      if let note { members.append(("note", .string(note))) }
      members.append(("summary", .object(counts)))
      members.append(("tensors", .array(tensors.map(\.json))))
      return .object(members)
    }

    /// One line per tensor that is not identical, then a summary line.
    public var text: String {
      var lines: [String] = []
      if let note { lines.append(note) }
      for entry in tensors where entry.status != .identical {
        var line = "\(entry.status.words): \(entry.name)"
        if let a = entry.dtypeA, let b = entry.dtypeB, a != b {
          line += " (dtype \(a.rawValue) vs \(b.rawValue))"
        }
        if let a = entry.shapeA, let b = entry.shapeB, a != b {
          line += " (shape \(Shape.describe(a)) vs \(Shape.describe(b)))"
        }
        if let stats = entry.statistics {
          line +=
            " max abs \(ParityReport.format(stats.maxAbsError)), max rel \(ParityReport.format(stats.maxRelError))"
        }
        lines.append(line)
      }
      lines.append(summary)
      return lines.joined(separator: "\n")
    }

    /// The verdict in the words the rows use: IDENTICAL when every tensor is; CLOSE when every
    /// tensor is identical or within the tolerance with its dtype; DIFFERENT otherwise; then the
    /// count of each status (`2 identical, 1 close, 1 only in A`).
    public var summary: String {
      let verdict =
        tensors.allSatisfy { $0.status == .identical } ? "IDENTICAL" : passed ? "CLOSE" : "DIFFERENT"
      var counts: [String] = []
      for status in [
        TensorDifference.Status.identical, .close, .different, .shapeMismatch, .incomparable, .onlyInA,
        .onlyInB,
      ] {
        let matching = tensors.filter { $0.status == status }
        guard !matching.isEmpty else { continue }
        var label = "\(matching.count) \(status.words)"
        if status == .close, case let changed = matching.filter({ !$0.matches }).count, changed > 0 {
          label += " (\(changed) in another dtype)"
        }
        counts.append(label)
      }
      return "\(verdict): \(tensors.count) tensors"
        + (counts.isEmpty ? "" : ", " + counts.joined(separator: ", "))
    }
  }

  /// A tensor's values as float32: Q8_0/Q4_0 blocks dequantized as `ckpt convert` does.
  static func values(_ tensor: Tensor) throws -> [Float] {
    try TensorValues.floats(tensor.dtype.isBlockQuantized ? Dequantizer.floatTensor(tensor) : tensor)
  }

  /// Compares `b` against the reference `a`; `tolerance` defaults by dtype (``Tolerance``).
  ///
  /// - Throws: `CheckpointError` when a tensor's bytes cannot be read.
  public static func compare(_ a: Checkpoint, _ b: Checkpoint, tolerance: Tolerance? = nil) throws -> Report {
    let tolerance = tolerance ?? Tolerance.default(for: [a, b])
    var entries: [TensorDifference] = []
    for tensorA in a.tensors {
      guard let tensorB = b[tensorA.name] else {
        entries.append(
          TensorDifference(
            name: tensorA.name, status: .onlyInA, dtypeA: tensorA.dtype, shapeA: tensorA.shape))
        continue
      }
      var entry = TensorDifference(
        name: tensorA.name, status: .identical, dtypeA: tensorA.dtype, dtypeB: tensorB.dtype,
        shapeA: tensorA.shape,
        shapeB: tensorB.shape)
      if tensorA.shape != tensorB.shape {
        entry.status = .shapeMismatch
      } else if tensorA.dtype == tensorB.dtype, try tensorA.load() == tensorB.load() {
        entry.status = .identical
      } else if let valuesA = try? values(tensorA), let valuesB = try? values(tensorB) {
        let statistics = ErrorStatistics(valuesA, valuesB, tolerance: tolerance)
        entry.statistics = statistics
        entry.status = statistics.passed ? .close : .different
      } else {
        entry.status = .incomparable
      }
      entries.append(entry)
    }
    let namesA = Set(a.tensors.map(\.name))
    for tensorB in b.tensors where !namesA.contains(tensorB.name) {
      entries.append(
        TensorDifference(name: tensorB.name, status: .onlyInB, dtypeB: tensorB.dtype, shapeB: tensorB.shape))
    }
    return Report(tensors: entries, tolerance: tolerance)
  }
}
