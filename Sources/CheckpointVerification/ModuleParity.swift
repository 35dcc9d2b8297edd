import CheckpointCore

/// The comparison of one module (or the whole model) of checkpoint B against checkpoint A.
public struct ModuleParity: Sendable {
  /// The canonical module name (`encoder.layers.0.self_attn`), or `model` for the whole.
  public var name: String
  /// The module kind (`CheckpointEngine/ModuleDescriptor/kind`).
  public var kind: String
  /// The error statistics over all of the module's outputs; `nil` when nothing could be compared.
  public var statistics: ErrorStatistics?
  /// Whether every output element is within the tolerance (and shapes and names agree).
  public var passed: Bool
  /// Why the module failed, or a note (present on one side only, shape or settings mismatch).
  public var reason: String?
  /// Per output (the whole model's outputs; empty for modules).
  public var outputs: [ModuleParity] = []

  /// The JSON object: `name, kind, max_abs_error, max_rel_error, cosine, passed, reason?` (+ `outputs`).
  public var json: JSONValue {
    var members: [(String, JSONValue)] = [("name", .string(name)), ("kind", .string(kind))]
    members.append(("max_abs_error", ModuleParity.number(statistics?.maxAbsError)))
    members.append(("max_rel_error", ModuleParity.number(statistics?.maxRelError)))
    members.append(("cosine", ModuleParity.number(statistics?.cosine)))
    members.append(("passed", .bool(passed)))
    if let reason { members.append(("reason", .string(reason))) }
    if !outputs.isEmpty { members.append(("outputs", .array(outputs.map(\.json)))) }
    return .object(members)
  }

  /// A finite number, or `null` (JSON has no NaN or infinity).
  static func number(_ value: Double?) -> JSONValue {
    guard let value, value.isFinite else { return .null }
    return .double(value)
  }
}
