/// One step of a layout rule, read from canonical (PyTorch-oriented) parameters to a framework's tensor.
///
/// Steps before the first combining step (``pack``, ``stack``, ``sum``) apply to each canonical
/// parameter; the combining step makes one tensor; later steps apply to it. Reading a
/// framework's tensor runs the inverse steps in reverse order.
public enum TransformStep: Sendable, Equatable {
  /// Swaps the two axes of a matrix (`Linear.weight [out, in]` ↔ `Dense.kernel [in, out]`).
  case transpose
  /// Reorders gate blocks along `axis`: block `i` of the result is block `order[i]`
  /// (PyTorch GRU r,z,n → Keras z,r,h is `[1, 0, 2]`).
  case gates([Int], axis: Int)
  /// Splits `axis` of size E into `[heads, E / heads]` (`[E, E]` ↔ Keras `[E, heads, head_dim]`).
  case splitHeads(axis: Int)
  /// Concatenates the parameters along axis 0 (`in_proj_weight = [W_q; W_k; W_v]`); the inverse
  /// splits into equal parts.
  case pack
  /// Stacks the parameters on a new leading axis (Keras GRU bias `[2, 3H]`); the inverse unstacks.
  case stack
  /// Adds the parameters in float32 (Keras LSTM bias = `b_ih + b_hh`); the inverse puts the value
  /// in the first parameter and zeros in the others. Not an exact inverse: see Docs/layouts.md.
  case sum

  /// Whether the step makes one tensor of several (``pack``, ``stack``, ``sum``).
  package var combines: Bool {
    switch self {
    case .pack, .stack, .sum: return true
    default: return false
    }
  }
}

/// A layout rule: canonical parameters (`roles`) ↔ one framework tensor (`name`, relative to
/// the module's prefix, `{s}` standing for a PyTorch RNN layer suffix such as `_l0_reverse`).
public struct ParameterRule: Sendable {
  /// The tensor name relative to the module prefix.
  public var name: String
  /// The canonical parameters it holds (PyTorch roles: `weight_ih`, `self.q.weight`, ...).
  public var roles: [String]
  /// The steps from canonical to framework.
  public var steps: [TransformStep]

  /// Creates a rule.
  public init(_ name: String, _ roles: [String], _ steps: [TransformStep] = []) {
    self.name = name
    self.roles = roles
    self.steps = steps
  }

  /// Creates a rule for one canonical parameter.
  public init(_ name: String, _ role: String, _ steps: [TransformStep] = []) {
    self.init(name, [role], steps)
  }
}

extension ParameterRule {
  /// The tensor name with `{s}` as `suffix` (a PyTorch RNN layer suffix, ``LayoutTable/pytorchRNNSuffix(layer:direction:)``).
  package func name(suffix: String) -> String { name.replacing("{s}", with: suffix) }
}
