import CheckpointCore

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

  var combines: Bool {
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

/// What the steps need besides the values.
struct TransformContext {
  /// Attention heads, for ``TransformStep/splitHeads(axis:)``.
  var heads: Int?
}

extension ParameterRule {
  /// Applies the steps to canonical blocks, giving the framework tensor's block.
  func forward(_ inputs: [ArrayBlock], context: TransformContext, tensor: String) throws -> ArrayBlock {
    var blocks = inputs
    for step in steps {
      if step.combines {
        blocks = [try ParameterRule.combine(step, blocks, tensor: tensor)]
      } else {
        blocks = try blocks.map { try ParameterRule.apply(step, $0, context: context, tensor: tensor) }
      }
    }
    guard blocks.count == 1 else {
      throw CheckpointError(.invalidArgument, "rule for '\(name)' does not make one tensor", tensor: tensor)
    }
    return blocks[0]
  }

  /// Inverts the steps on a framework tensor's block, giving one block per role.
  func backward(_ block: ArrayBlock, context: inout TransformContext, tensor: String) throws -> [ArrayBlock] {
    var blocks = [block]
    for step in steps.reversed() {
      if step.combines {
        guard blocks.count == 1 else { continue }
        blocks = try ParameterRule.uncombine(step, blocks[0], count: roles.count, tensor: tensor)
      } else {
        blocks = try blocks.map { try ParameterRule.invert(step, $0, context: &context, tensor: tensor) }
      }
    }
    return blocks
  }

  private static func shapeError(_ tensor: String, _ what: String, _ shape: [Int]) -> CheckpointError {
    CheckpointError(.invalidShape, "\(what); found shape \(Shape.describe(shape))", tensor: tensor)
  }

  static func apply(_ step: TransformStep, _ block: ArrayBlock, context: TransformContext, tensor: String)
    throws
    -> ArrayBlock
  {
    switch step {
    case .transpose:
      guard block.shape.count == 2 else { throw shapeError(tensor, "transpose needs a matrix", block.shape) }
      return block.permuted([1, 0])
    case .gates(let order, let axis):
      guard axis < block.shape.count, block.shape[axis] % order.count == 0 else {
        throw shapeError(tensor, "axis \(axis) does not split into \(order.count) gates", block.shape)
      }
      return block.reorderingBlocks(order, axis: axis)
    case .splitHeads(let axis):
      guard let heads = context.heads, heads > 0 else {
        throw CheckpointError(
          .invalidArgument,
          "the number of attention heads is needed to write [E, heads, head_dim] kernels (give --heads)",
          tensor: tensor)
      }
      guard axis < block.shape.count, block.shape[axis] % heads == 0 else {
        throw shapeError(tensor, "axis \(axis) does not split into \(heads) heads", block.shape)
      }
      var shape = block.shape
      shape.replaceSubrange(axis...axis, with: [heads, block.shape[axis] / heads])
      return block.reshaped(shape)
    case .pack, .stack, .sum: return block
    }
  }

  static func invert(
    _ step: TransformStep, _ block: ArrayBlock, context: inout TransformContext, tensor: String
  )
    throws -> ArrayBlock
  {
    switch step {
    case .transpose:
      return try apply(.transpose, block, context: context, tensor: tensor)
    case .gates(let order, let axis):
      var inverse = [Int](repeating: 0, count: order.count)
      for (index, value) in order.enumerated() { inverse[value] = index }
      return try apply(.gates(inverse, axis: axis), block, context: context, tensor: tensor)
    case .splitHeads(let axis):
      guard axis + 1 < block.shape.count else {
        throw shapeError(tensor, "expected [heads, head_dim] at axis \(axis)", block.shape)
      }
      let heads = block.shape[axis]
      if let known = context.heads, known != heads {
        throw shapeError(
          tensor, "\(heads) heads where other tensors of the module have \(known)", block.shape)
      }
      context.heads = heads
      var shape = block.shape
      shape.replaceSubrange(axis...(axis + 1), with: [heads * block.shape[axis + 1]])
      return block.reshaped(shape)
    case .pack, .stack, .sum: return block
    }
  }

  static func combine(_ step: TransformStep, _ blocks: [ArrayBlock], tensor: String) throws -> ArrayBlock {
    let shape = blocks[0].shape
    guard blocks.allSatisfy({ $0.shape == shape && $0.dtype == blocks[0].dtype }) else {
      throw CheckpointError(
        .invalidShape,
        "parameters to combine differ in shape or dtype: \(blocks.map { Shape.describe($0.shape) }.joined(separator: ", "))",
        tensor: tensor)
    }
    switch step {
    case .pack: return ArrayBlock.concatenate(blocks, axis: 0)
    case .stack:
      return ArrayBlock.concatenate(blocks.map { $0.reshaped([1] + $0.shape) }, axis: 0)
    case .sum: return try ArrayBlock.sum(blocks, tensor: tensor)
    default: return blocks[0]
    }
  }

  static func uncombine(_ step: TransformStep, _ block: ArrayBlock, count: Int, tensor: String) throws
    -> [ArrayBlock]
  {
    switch step {
    case .pack:
      guard let first = block.shape.first, first % count == 0 else {
        throw shapeError(tensor, "axis 0 does not split into \(count) equal parts", block.shape)
      }
      return block.split(into: count, axis: 0)
    case .stack:
      guard block.shape.first == count else {
        throw shapeError(tensor, "expected \(count) stacked parameters on axis 0", block.shape)
      }
      return block.split(into: count, axis: 0).map { $0.reshaped(Array($0.shape.dropFirst())) }
    case .sum:
      return [block] + (1..<max(count, 1)).map { _ in block.zeros() }
    default: return [block]
    }
  }
}
