import CheckpointCore
import CheckpointModels

/// Reads and writes module units through a ``LayoutTable``, lazily.
enum RuleApplication {
  /// Reads the canonical parameters of the unit at `prefix` from `tensors` (by name), marking
  /// the names used in `claimed`. Missing tensors leave their roles absent.
  static func read(
    _ table: LayoutTable, prefix: String, suffix: String = "", tensors: [String: Tensor],
    claimed: inout Set<String>, heads: inout Int?
  ) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for rule in table.rules + table.readOnlyRules {
      let name = prefix + rule.name(suffix: suffix)
      guard let source = tensors[name], !rule.roles.contains(where: { result[$0] != nil }) else { continue }
      claimed.insert(name)
      var context = TransformContext(heads: heads)
      let shapes = try rule.backward(.symbolic(source), context: &context, tensor: name)
      heads = context.heads
      for (index, role) in rule.roles.enumerated() {
        let shape = shapes[index].shape
        let info = TensorInfo(name: role, dtype: shapes[index].dtype, shape: shape)
        let byteCount = try info.byteCount()
        let captured = rule
        let known = context.heads
        result[role] = Tensor(info: info, byteCount: byteCount) {
          var context = TransformContext(heads: known)
          let blocks = try captured.backward(try ArrayBlock.load(source), context: &context, tensor: name)
          return TensorBytes(blocks[index].bytes)
        }
      }
    }
    return result
  }

  /// Writes the canonical parameters of one unit under `prefix`: one tensor per rule whose
  /// roles are present (a merge rule needs its first role; missing later roles count as zero).
  static func write(
    _ table: LayoutTable, prefix: String, suffix: String = "", parameters: [String: Tensor], heads: Int?,
    module: String
  ) throws -> [Tensor] {
    var result: [Tensor] = []
    var used: Set<String> = []
    for rule in table.rules {
      let name = prefix + rule.name(suffix: suffix)
      var inputs = rule.roles.map { parameters[$0] }
      if rule.steps.contains(.sum), let first = inputs[0] {
        inputs = inputs.map { $0 ?? first.zerosLike() }
      }
      let present = inputs.compactMap { $0 }
      if present.isEmpty { continue }
      guard present.count == inputs.count else {
        let missing = zip(rule.roles, inputs).filter { $0.1 == nil }.map(\.0)
        throw CheckpointError(
          .notFound, "\(module): '\(name)' needs \(missing.joined(separator: ", ")), which the source lacks",
          tensor: name)
      }
      for role in rule.roles { used.insert(role) }
      let context = TransformContext(heads: heads)
      let shape = try rule.forward(present.map { .symbolic($0) }, context: context, tensor: name)
      let info = TensorInfo(name: name, dtype: shape.dtype, shape: shape.shape)
      let captured = rule
      result.append(
        Tensor(info: info, byteCount: try info.byteCount()) {
          let blocks = try present.map { try ArrayBlock.load($0) }
          return TensorBytes(try captured.forward(blocks, context: context, tensor: name).bytes)
        })
    }
    let unused = parameters.keys.filter { !used.contains($0) }.sorted()
    if !unused.isEmpty {
      throw CheckpointError(
        .unsupported,
        "\(module): \(table.naming.rawValue) has no place for \(unused.joined(separator: ", "))")
    }
    return result
  }
}

extension Tensor {
  /// A tensor of zeros with this tensor's dtype and shape.
  func zerosLike() -> Tensor {
    let count = byteCount
    return Tensor(info: info, byteCount: count) { TensorBytes([UInt8](repeating: 0, count: count)) }
  }
}
