import CheckpointCore
import CheckpointModels

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
