import CheckpointCore

/// One tensor name's comparison in ``TensorDiff``.
public struct TensorDifference: Sendable {
  /// What was found.
  public enum Status: String, Sendable {
    /// Same dtype, shape and bytes.
    case identical
    /// Same shape, values within the tolerance (bytes differ, or dtypes differ).
    case close
    /// Same shape, values outside the tolerance.
    case different
    /// Shapes differ (element counts may too).
    case shapeMismatch = "shape_mismatch"
    /// The values cannot be compared as numbers (a quantized or otherwise undecodable dtype).
    case incomparable
    /// Only checkpoint A has the name.
    case onlyInA = "only_in_a"
    /// Only checkpoint B has the name.
    case onlyInB = "only_in_b"

    /// The status as the rows and the summary write it (`only in a`, `shape mismatch`).
    public var words: String { rawValue.replacingOccurrences(of: "_", with: " ") }
  }

  /// The tensor name.
  public var name: String
  /// The outcome.
  public var status: Status
  /// The dtypes (`nil` on a missing side).
  public var dtypeA: DType?
  /// B's dtype.
  public var dtypeB: DType?
  /// The shapes.
  public var shapeA: [Int]?
  /// B's shape.
  public var shapeB: [Int]?
  /// Error statistics when values were compared.
  public var statistics: ErrorStatistics?

  /// Whether this tensor counts as equal (identical or close, same dtype).
  public var matches: Bool { status == .identical || (status == .close && dtypeA == dtypeB) }

  /// `{name, status, dtype_a, dtype_b, shape_a, shape_b, max_abs_error, max_rel_error, cosine}`.
  public var json: JSONValue {
    func shape(_ value: [Int]?) -> JSONValue { value.map { .array($0.map { .integer(Int64($0)) }) } ?? .null }
    return .object([
      ("name", .string(name)), ("status", .string(status.rawValue)),
      ("dtype_a", dtypeA.map { .string($0.rawValue) } ?? .null),
      ("dtype_b", dtypeB.map { .string($0.rawValue) } ?? .null),
      ("shape_a", shape(shapeA)), ("shape_b", shape(shapeB)),
      ("max_abs_error", ModuleParity.number(statistics?.maxAbsError)),
      ("max_rel_error", ModuleParity.number(statistics?.maxRelError)),
      ("cosine", ModuleParity.number(statistics?.cosine)),
    ])
  }
}
