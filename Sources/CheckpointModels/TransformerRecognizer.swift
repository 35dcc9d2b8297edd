import CheckpointCore

/// Finds Transformer encoder and decoder layer stacks from names and shapes.
///
/// The names are the layer tables' (`Names/Rules/Transformer+*.swift`): PyTorch, then HF BERT,
/// then HF BART layers numbered under a stack prefix (the table's `stack.layer`, with the final
/// norm at its `stack.finalNorm`), found by their self-attention query weight; else keras_hub
/// layers (`layers.transformer_encoder[_n].`), one stack of encoders and one of decoders. A layer
/// whose tensors hold the decoder table's cross-attention is a decoder layer. Norms are LayerNorms
/// under the prefixes the tables give them, so they also read the LayerNorm's `gamma`/`beta`.
///
/// It gives ``TransformerStack``s under normalised names (``ParameterSet``'s); absent biases are nil.
package struct TransformerRecognizer {
  package let parameters: ParameterSet

  package init(parameters: ParameterSet) { self.parameters = parameters }

  /// A naming's layer tables, tried in order: `decoderMark` is the role whose tensor makes a
  /// layer a decoder's; `layerNorm` names the norms (and their read-only `gamma`/`beta`).
  private struct Finder {
    var encoder: LayoutTable
    var decoder: LayoutTable?
    var decoderMark: String
    var layerNorm: LayoutTable
  }

  private static let numbered = [
    Finder(
      encoder: .encoderPyTorch, decoder: .decoderPyTorch, decoderMark: "cross.out.weight",
      layerNorm: .layerNormPyTorch),
    Finder(
      encoder: .encoderHFBert, decoder: nil, decoderMark: "cross.q.weight", layerNorm: .layerNormPyTorch),
    Finder(
      encoder: .encoderHFBart, decoder: .decoderHFBart, decoderMark: "cross.q.weight",
      layerNorm: .layerNormPyTorch),
  ]

  private static let kerasHubFinder = Finder(
    encoder: .encoderKeras3, decoder: .decoderKeras3, decoderMark: "cross.q.weight",
    layerNorm: .layerNormKeras3)

  /// Every stack found, in the first layout that has any.
  package func stacks() -> [TransformerStack] {
    for finder in Self.numbered {
      let found = numbered(finder)
      if !found.isEmpty { return found }
    }
    return kerasHub(Self.kerasHubFinder)
  }

  private func bias(_ name: String) -> String? { parameters.contains(name) ? name : nil }

  /// The norm `role` (`norm1`) of the layer at `p`: a LayerNorm under the prefix the layer's table
  /// gives it, read under the LayerNorm's read-only names (`gamma`, `beta`) when its scale is.
  private func norm(_ role: String, _ p: String, _ table: LayoutTable, _ layerNorm: LayoutTable) -> NormNames
  {
    let weight = p + table.name(role + ".weight")
    let bias = p + table.name(role + ".bias")
    let scale = layerNorm.name("weight")
    if weight.hasSuffix(scale), let gamma = layerNorm.readOnlyNames("weight").first,
      let beta = layerNorm.readOnlyNames("bias").first
    {
      let module = String(weight.dropLast(scale.count))
      if parameters.contains(module + gamma) { return NormNames(gamma: module + gamma, beta: module + beta) }
    }
    return NormNames(gamma: weight, beta: bias)
  }

  /// The attention block `role` (`self`, `cross`) of the layer at `p`: the table's names, or its
  /// read-only ones (PyTorch's separate `q_proj_weight`) where the packed tensor is absent.
  private func attention(_ role: String, _ p: String, _ table: LayoutTable) -> AttentionNames {
    func weight(_ part: String) -> String {
      let name = p + table.name("\(role).\(part).weight")
      if parameters.contains(name) { return name }
      return table.readOnlyNames("\(role).\(part).weight").first.map { p + $0 } ?? name
    }
    func projectionBias(_ part: String) -> String? { bias(p + table.name("\(role).\(part).bias")) }
    let query = weight("q")
    let queryBias = projectionBias("q")
    let packed =
      (query == p + table.name("\(role).q.weight") && table.packs("\(role).q.weight"))
      || (queryBias != nil && table.packs("\(role).q.bias"))
    return AttentionNames(
      query: query, queryBias: queryBias, key: weight("k"), keyBias: projectionBias("k"), value: weight("v"),
      valueBias: projectionBias("v"), output: weight("out"), outputBias: projectionBias("out"), packed: packed
    )
  }

  /// The layer at `p`, in `finder`'s decoder table when its tensors mark a decoder.
  private func layer(_ p: String, _ finder: Finder) -> TransformerLayerNames {
    var table = finder.encoder
    if let decoder = finder.decoder, parameters.contains(p + decoder.name(finder.decoderMark)) {
      table = decoder
    }
    let isDecoder = table.kind == .decoderLayer
    return TransformerLayerNames(
      name: p, selfAttention: attention("self", p, table),
      crossAttention: isDecoder ? attention("cross", p, table) : nil,
      inner: p + table.name("linear1.weight"), innerBias: bias(p + table.name("linear1.bias")),
      outer: p + table.name("linear2.weight"), outerBias: bias(p + table.name("linear2.bias")),
      norms: (1...(isDecoder ? 3 : 2)).map { norm("norm\($0)", p, table, finder.layerNorm) })
  }

  /// Stacks of layers numbered under a stack prefix (the table's `stack.layer`, `layers.{i}.`),
  /// found by the first layer's query weight, each with the final norm its naming has.
  private func numbered(_ finder: Finder) -> [TransformerStack] {
    let table = finder.encoder
    guard let stack = table.stack else { return [] }
    let layerPrefix = ParameterSet.normalize(stack.layer)
    let queries = [table.name("self.q.weight")] + table.readOnlyNames("self.q.weight")
    let pattern =
      "(.*)" + regexLiteral(layerPrefix).replacing(regexLiteral("{i}"), with: #"(\d+)"#) + "(?:"
      + queries.map(regexLiteral).joined(separator: "|") + ")"
    var byPrefix: [String: [Int]] = [:]
    var order: [String] = []
    for hit in parameters.matches(pattern) {
      guard let index = Int(hit.groups[1]) else { continue }
      if byPrefix[hit.groups[0]] == nil { order.append(hit.groups[0]) }
      byPrefix[hit.groups[0], default: []].append(index)
    }
    return order.map { prefix in
      let indices = (byPrefix[prefix] ?? []).sorted()
      var final: NormNames?
      if let norm = stack.finalNorm.map({ prefix + ParameterSet.normalize($0) }),
        parameters.contains(norm + finder.layerNorm.name("weight"))
      {
        final = NormNames(
          gamma: norm + finder.layerNorm.name("weight"), beta: norm + finder.layerNorm.name("bias"))
      }
      return TransformerStack(
        layout: table.naming, name: prefix,
        layers: indices.map { layer(prefix + layerPrefix.replacing("{i}", with: String($0)), finder) },
        finalNorm: final)
    }
  }

  /// keras_hub `TransformerEncoder` / `TransformerDecoder` layers in a Keras 3 `.weights.h5`.
  private func kerasHub(_ finder: Finder) -> [TransformerStack] {
    let prefixes = parameters.matches(#"(.*)\."# + regexLiteral(finder.encoder.name("self.q.weight"))).map {
      $0.groups[0]
    }
    let ordered = prefixes.sorted { kerasOrder(lastComponent($0), lastComponent($1)) }
    var encoders: [TransformerLayerNames] = []
    var decoders: [TransformerLayerNames] = []
    for prefix in ordered {
      let layer = layer(prefix + ".", finder)
      if layer.crossAttention != nil { decoders.append(layer) } else { encoders.append(layer) }
    }
    var stacks: [TransformerStack] = []
    if !encoders.isEmpty {
      stacks.append(TransformerStack(layout: .keras3, name: "", layers: encoders, finalNorm: nil))
    }
    if !decoders.isEmpty {
      stacks.append(TransformerStack(layout: .keras3, name: "", layers: decoders, finalNorm: nil))
    }
    // keras_hub layers have no final norm; a model that has one (nn.Transformer's) is the stacks
    // followed by LayerNormalization layers. When the file holds only the stacks and as many
    // `layer_normalization[_N]` layers, those are the final norms: the encoder's first.
    let (scale, offset) = (finder.layerNorm.name("weight"), finder.layerNorm.name("bias"))
    let (root, normClass) = (regexLiteral(KerasLayers.root), regexLiteral(KerasLayers.className(.layerNorm)))
    let norms = parameters.matches(root + #"\.("# + normClass + #"(?:_\d+)?)\."# + regexLiteral(scale)).map {
      $0.groups[0]
    }
    .sorted(by: kerasOrder)
    let owned = ordered.map { $0 + "." } + norms.map { "\(KerasLayers.root).\($0)." }
    if !stacks.isEmpty, norms.count == stacks.count,
      parameters.names.allSatisfy({ name in owned.contains { name.hasPrefix($0) } })
    {
      for (index, norm) in norms.enumerated() {
        let module = "\(KerasLayers.root).\(norm)."
        stacks[index].finalNorm = NormNames(gamma: module + scale, beta: module + offset)
      }
    }
    return stacks
  }

  private func lastComponent(_ name: String) -> String {
    name.split(separator: ".").last.map(String.init) ?? name
  }
}
