import CheckpointCore
import CheckpointModels

/// Loading a recognised module's tensors as the engine computes with them.
extension ParameterSet {
  /// Loads `name` as floats, checking its shape against `expected` (−1 matches any size).
  func floats(_ name: String, shape expected: [Int]? = nil, module: String) throws -> [Float] {
    guard let tensor = tensor(name) else {
      throw ModelError.missingModule("\(module): missing tensor '\(name)'")
    }
    if let expected {
      let fits =
        expected.count == tensor.shape.count
        && zip(expected, tensor.shape).allSatisfy { $0 == -1 || $0 == $1 }
      guard fits else {
        throw ModelError.badWeight(
          tensor.name,
          "\(module): shape \(Shape.describe(tensor.shape)) does not fit; expected \(Shape.describe(expected))"
        )
      }
    }
    guard tensor.dtype.isFloatingPoint, !tensor.dtype.isBlockQuantized, tensor.dtype != .f8e4m3,
      tensor.dtype != .f8e5m2
    else {
      throw CheckpointError(
        .unsupportedDType, "\(module): the engine computes in float32 and cannot use \(tensor.dtype) weights",
        tensor: tensor.name)
    }
    return try TensorValues.floats(tensor)
  }

  /// Loads a dense weight `name` stored `[out, in]` or `[in, out]` (Keras kernels may have more
  /// dimensions, which are flattened: `[E, heads, d]` is `[E, heads·d]`).
  func dense(
    _ name: String, layout: DenseWeight.Layout, inFeatures: Int? = nil, outFeatures: Int? = nil,
    module: String
  ) throws -> DenseWeight {
    guard let shape = shape(name) else {
      throw ModelError.missingModule("\(module): missing tensor '\(name)'")
    }
    guard shape.count >= 2 else {
      throw ModelError.badWeight(
        fileName(name), "\(module): expected a matrix, found shape \(Shape.describe(shape))")
    }
    let (rows, cols): (Int, Int)
    switch layout {
    case .outIn: (rows, cols) = (shape[0], shape.dropFirst().reduce(1, *))
    case .inOut:
      // Keras: the input axes come first. Output kernels [heads, d, E] have two input axes.
      (rows, cols) =
        shape.count == 3 && outFeatures == shape[2]
        ? (shape[0] * shape[1], shape[2]) : (shape[0], shape.dropFirst().reduce(1, *))
    }
    let (inF, outF) = layout == .outIn ? (cols, rows) : (rows, cols)
    guard inF > 0, outF > 0 else {
      throw ModelError.badWeight(fileName(name), "\(module): empty weight of shape \(Shape.describe(shape))")
    }
    if let inFeatures, inFeatures != inF {
      throw ModelError.badWeight(
        fileName(name),
        "\(module): shape \(Shape.describe(shape)) takes \(inF) input features, expected \(inFeatures)")
    }
    if let outFeatures, outFeatures != outF {
      throw ModelError.badWeight(
        fileName(name),
        "\(module): shape \(Shape.describe(shape)) gives \(outF) output features, expected \(outFeatures)")
    }
    let values = try floats(name, module: module)
    return DenseWeight(values: values, inFeatures: inF, outFeatures: outF, layout: layout)
  }

  /// Loads a bias or norm vector of `count` elements (any shape with that many elements).
  func vector(_ name: String, count: Int, module: String) throws -> [Float] {
    guard let shape = shape(name) else {
      throw ModelError.missingModule("\(module): missing tensor '\(name)'")
    }
    guard count > 0, shape.reduce(1, *) == count else {
      throw ModelError.badWeight(
        fileName(name), "\(module): shape \(Shape.describe(shape)) does not fit; expected \(count) elements")
    }
    return try floats(name, module: module)
  }
}
