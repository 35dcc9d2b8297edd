import CheckpointCore

/// A checkpoint's tensors under normalised names, with typed, shape-checked access.
///
/// Names are normalised so one set of patterns serves every layout: a leading `/`,
/// Keras 2's `:0` suffix and a `model_weights/` root are dropped, and `/` becomes `.`
/// (`model_weights/lstm/lstm/lstm_cell/kernel:0` → `lstm.lstm.lstm_cell.kernel`).
struct ParameterSet {
  private var byName: [String: Tensor] = [:]
  /// Normalised names in file order.
  private(set) var names: [String] = []
  /// The checkpoint's metadata.
  var metadata: [String: String]
  /// The Keras 2 `model_config`, when the file carries one.
  var kerasConfig: KerasModelConfig?

  init(_ checkpoint: Checkpoint) {
    metadata = checkpoint.metadata
    kerasConfig = KerasModelConfig(checkpoint.metadata)
    for tensor in checkpoint.tensors {
      let name = ParameterSet.normalize(tensor.name)
      guard byName[name] == nil else { continue }
      byName[name] = tensor
      names.append(name)
    }
  }

  static func normalize(_ name: String) -> String {
    var text = name
    while text.hasPrefix("/") { text.removeFirst() }
    if text.hasSuffix(":0") { text.removeLast(2) }
    if text.hasPrefix("model_weights/") { text.removeFirst("model_weights/".count) }
    return text.split(separator: "/", omittingEmptySubsequences: false).joined(separator: ".")
  }

  func contains(_ name: String) -> Bool { byName[name] != nil }

  /// The shape of `name`, if present.
  func shape(_ name: String) -> [Int]? { byName[name]?.shape }

  /// The original (file) name of `name`.
  func fileName(_ name: String) -> String { byName[name]?.name ?? name }

  /// Loads `name` as floats, checking its shape against `expected` (−1 matches any size).
  func floats(_ name: String, shape expected: [Int]? = nil, module: String) throws -> [Float] {
    guard let tensor = byName[name] else {
      throw EngineError.missingModule("\(module): missing tensor '\(name)'")
    }
    if let expected {
      let fits =
        expected.count == tensor.shape.count
        && zip(expected, tensor.shape).allSatisfy { $0 == -1 || $0 == $1 }
      guard fits else {
        throw EngineError.badWeight(
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
      throw EngineError.missingModule("\(module): missing tensor '\(name)'")
    }
    guard shape.count >= 2 else {
      throw EngineError.badWeight(
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
      throw EngineError.badWeight(fileName(name), "\(module): empty weight of shape \(Shape.describe(shape))")
    }
    if let inFeatures, inFeatures != inF {
      throw EngineError.badWeight(
        fileName(name),
        "\(module): shape \(Shape.describe(shape)) takes \(inF) input features, expected \(inFeatures)")
    }
    if let outFeatures, outFeatures != outF {
      throw EngineError.badWeight(
        fileName(name),
        "\(module): shape \(Shape.describe(shape)) gives \(outF) output features, expected \(outFeatures)")
    }
    let values = try floats(name, module: module)
    return DenseWeight(values: values, inFeatures: inF, outFeatures: outF, layout: layout)
  }

  /// Loads a bias or norm vector of `count` elements (any shape with that many elements).
  func vector(_ name: String, count: Int, module: String) throws -> [Float] {
    guard let shape = shape(name) else {
      throw EngineError.missingModule("\(module): missing tensor '\(name)'")
    }
    guard count > 0, shape.reduce(1, *) == count else {
      throw EngineError.badWeight(
        fileName(name), "\(module): shape \(Shape.describe(shape)) does not fit; expected \(count) elements")
    }
    return try floats(name, module: module)
  }

  /// Names matching `pattern`'s capture groups: `(prefix, captures)` for each hit.
  func matches(_ pattern: String) -> [(name: String, groups: [String])] {
    guard let regex = try? Regex(pattern) else { return [] }
    var result: [(String, [String])] = []
    for name in names {
      guard let match = try? regex.wholeMatch(in: name) else { continue }
      var groups: [String] = []
      for index in 1..<match.output.count {
        groups.append(match.output[index].substring.map(String.init) ?? "")
      }
      result.append((name, groups))
    }
    return result
  }
}

/// Sorts Keras layer names as Keras numbers them: `lstm`, `lstm_1`, `lstm_2`, …, `lstm_10`.
func kerasOrder(_ a: String, _ b: String) -> Bool {
  func split(_ name: String) -> (String, Int) {
    if let underscore = name.lastIndex(of: "_"), let number = Int(name[name.index(after: underscore)...]) {
      return (String(name[..<underscore]), number)
    }
    return (name, 0)
  }
  let (baseA, numberA) = split(a)
  let (baseB, numberB) = split(b)
  return baseA == baseB ? numberA < numberB : baseA < baseB
}
