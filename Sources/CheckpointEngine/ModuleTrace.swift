/// Collects ``ModuleRecord``s, in execution order, during a traced forward pass.
///
/// A layer's sub-modules are recorded before the layer itself, so the first failing
/// record in order is the innermost module that diverged first.
public final class ModuleTrace {
  /// The records, in execution order.
  public private(set) var records: [ModuleRecord] = []

  /// Creates an empty trace.
  public init() {}

  /// Appends a record.
  public func append(
    name: String, parent: String?, inputs: [Matrix], outputs: [Matrix], keep: [Bool]? = nil,
    causal: Bool = false
  ) {
    records.append(
      ModuleRecord(name: name, parent: parent, inputs: inputs, outputs: outputs, keep: keep, causal: causal))
  }
}

extension Matrix {
  /// Entries `start..<start+count` of the first axis (`[L·D, B, H]` → `[count, B, H]`).
  func slab(_ start: Int, count: Int) -> Matrix {
    let stride = shape.dropFirst().reduce(1, *)
    return Matrix(
      shape: [count] + shape.dropFirst(), values: Array(values[(start * stride)..<((start + count) * stride)])
    )
  }

  /// Overwrites entries of the first axis from `start` with `slab`'s.
  mutating func setSlab(_ start: Int, _ slab: Matrix) {
    let stride = shape.dropFirst().reduce(1, *)
    values.replaceSubrange((start * stride)..<(start * stride + slab.count), with: slab.values)
  }
}
