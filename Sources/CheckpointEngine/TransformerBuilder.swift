import CheckpointCore
import CheckpointModels

/// Loads Transformer layers from the names `TransformerRecognizer` found.
struct TransformerBuilder {
  let parameters: ParameterSet
  let settings: TransformerSettings
  let layout: Naming

  private var weightLayout: DenseWeight.Layout { layout == .keras3 || layout == .keras2 ? .inOut : .outIn }

  /// The model width E of a stack (from its first layer's attention output).
  func embedSize(_ first: TransformerLayerNames) throws -> Int {
    let name = first.selfAttention.output
    guard let shape = parameters.shape(name), shape.count >= 2 else {
      throw ModelError.missingModule(
        "Transformer layer '\(first.name)': missing tensor '\(name)'")
    }
    return weightLayout == .outIn ? shape[0] : shape[shape.count - 1]
  }

  func attention(_ names: AttentionNames, embed: Int, module: String) throws
    -> MultiHeadAttention
  {
    let query: Linear
    let key: Linear
    let value: Linear
    var heads: Int
    if names.packed && names.query == names.key {
      let weights = try parameters.floats(names.query, shape: [3 * embed, embed], module: module)
      let biases = try names.queryBias.map { try parameters.vector($0, count: 3 * embed, module: module) }
      func part(_ index: Int) -> Linear {
        let rows = (index * embed * embed)..<((index + 1) * embed * embed)
        return Linear(
          weight: DenseWeight(
            values: Array(weights[rows]), inFeatures: embed, outFeatures: embed, layout: .outIn),
          bias: biases.map { Array($0[(index * embed)..<((index + 1) * embed)]) })
      }
      (query, key, value) = (part(0), part(1), part(2))
      guard let given = settings.heads else {
        throw ModelError.invalidOption("\(module): pass --heads (the packed projection does not record it)")
      }
      heads = given
    } else {
      var biases = [names.queryBias, names.keyBias, names.valueBias]
      if names.packed, let packed = names.queryBias {
        // PyTorch with kdim/vdim: separate weights, packed bias.
        let values = try parameters.vector(packed, count: 3 * embed, module: module)
        query = try linear(
          names.query, nil, inFeatures: embed, module: module, bias: Array(values[0..<embed]))
        key = try linear(names.key, nil, module: module, bias: Array(values[embed..<(2 * embed)]))
        value = try linear(names.value, nil, module: module, bias: Array(values[(2 * embed)...]))
        biases = []
      } else {
        query = try linear(names.query, biases[0], inFeatures: embed, module: module)
        key = try linear(names.key, biases[1], module: module)
        value = try linear(names.value, biases[2], module: module)
      }
      if weightLayout == .inOut, let shape = parameters.shape(names.query), shape.count == 3 {
        heads = shape[1]
        if let given = settings.heads, given != heads {
          throw ModelError.invalidOption(
            "\(module): --heads \(given) contradicts the query kernel's \(heads) heads")
        }
      } else if let given = settings.heads {
        heads = given
      } else {
        throw TransformerSettings.unresolvedError(["heads"], naming: layout)
      }
    }
    guard heads > 0, query.outFeatures % heads == 0, value.outFeatures % heads == 0 else {
      throw ModelError.invalidOption(
        "\(module): \(heads) heads do not divide the attention width \(query.outFeatures)")
    }
    guard key.outFeatures == query.outFeatures else {
      throw ModelError.badWeight(
        parameters.fileName(names.key),
        "\(module): key width \(key.outFeatures) ≠ query width \(query.outFeatures)")
    }
    let output = try linear(
      names.output, names.outputBias, inFeatures: value.outFeatures, outFeatures: embed, module: module)
    return MultiHeadAttention(query: query, key: key, value: value, output: output, heads: heads)
  }

  func linear(
    _ weight: String, _ bias: String?, inFeatures: Int? = nil, outFeatures: Int? = nil, module: String,
    bias given: [Float]? = nil
  ) throws -> Linear {
    let dense = try parameters.dense(
      weight, layout: weightLayout, inFeatures: inFeatures, outFeatures: outFeatures, module: module)
    let values = try given ?? bias.map { try parameters.vector($0, count: dense.outFeatures, module: module) }
    return Linear(weight: dense, bias: values)
  }

  /// A LayerNorm; without a stored offset (PyTorch `bias=False`) the offset is zero.
  func layerNorm(_ names: NormNames, embed: Int, module: String) throws -> LayerNorm {
    let gamma = try parameters.vector(names.gamma, count: embed, module: module)
    let beta =
      parameters.contains(names.beta)
      ? try parameters.vector(names.beta, count: embed, module: module) : [Float](repeating: 0, count: embed)
    return LayerNorm(gamma: gamma, beta: beta, eps: settings.eps)
  }

  private func feedForward(_ names: TransformerLayerNames, embed: Int, module: String) throws
    -> FeedForward
  {
    let inner = try linear(names.inner, names.innerBias, inFeatures: embed, module: module)
    let outer = try linear(
      names.outer, names.outerBias, inFeatures: inner.outFeatures, outFeatures: embed, module: module)
    return FeedForward(inner: inner, outer: outer, activation: settings.activation)
  }

  func encoderLayer(_ names: TransformerLayerNames, embed: Int) throws -> TransformerEncoderLayer {
    let module = "encoder layer '\(names.name)'"
    guard names.norms.count == 2 else { throw ModelError.missingModule("\(module): expected 2 norms") }
    return TransformerEncoderLayer(
      selfAttention: try attention(names.selfAttention, embed: embed, module: module + " self-attention"),
      feedForward: try feedForward(names, embed: embed, module: module),
      norm1: try layerNorm(names.norms[0], embed: embed, module: module),
      norm2: try layerNorm(names.norms[1], embed: embed, module: module), normFirst: settings.normFirst)
  }

  func decoderLayer(_ names: TransformerLayerNames, embed: Int) throws -> TransformerDecoderLayer {
    let module = "decoder layer '\(names.name)'"
    guard let cross = names.crossAttention, names.norms.count == 3 else {
      throw ModelError.missingModule("\(module): missing cross-attention")
    }
    return TransformerDecoderLayer(
      selfAttention: try attention(names.selfAttention, embed: embed, module: module + " self-attention"),
      crossAttention: try attention(cross, embed: embed, module: module + " cross-attention"),
      feedForward: try feedForward(names, embed: embed, module: module),
      norm1: try layerNorm(names.norms[0], embed: embed, module: module),
      norm2: try layerNorm(names.norms[1], embed: embed, module: module),
      norm3: try layerNorm(names.norms[2], embed: embed, module: module), normFirst: settings.normFirst)
  }
}
