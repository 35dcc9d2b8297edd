/// One module's activations in a traced forward pass: what it was given and what it returned.
///
/// Names are canonical and layout-independent (see ``ModuleDescriptor``), so a record taken
/// from one checkpoint's model can be replayed on the same module of another checkpoint's
/// model with ``Model/runModule(_:trace:)``.
public struct ModuleRecord: Sendable {
  /// The module's canonical name (`encoder.layers.0.self_attn`, `lstm.l1`).
  public var name: String
  /// The enclosing module whose run produced this record (a layer for its sub-modules), if any.
  public var parent: String?
  /// The module's inputs, in the order ``ModuleDescriptor/inputNames`` lists them.
  public var inputs: [Matrix]
  /// The module's outputs, in the order ``ModuleDescriptor/outputNames`` lists them.
  public var outputs: [Matrix]
  /// For attention: `[B·S]`, false where a key is padding.
  public var keep: [Bool]?
  /// For attention: whether keys after the query position are blocked.
  public var causal: Bool

  /// Creates a record.
  public init(
    name: String, parent: String? = nil, inputs: [Matrix], outputs: [Matrix] = [], keep: [Bool]? = nil,
    causal: Bool = false
  ) {
    self.name = name
    self.parent = parent
    self.inputs = inputs
    self.outputs = outputs
    self.keep = keep
    self.causal = causal
  }
}
