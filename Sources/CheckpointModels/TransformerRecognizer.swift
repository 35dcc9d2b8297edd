import CheckpointCore

/// Finds Transformer encoder and decoder layer stacks from names and shapes.
///
/// | layout | a layer is | attention | feed-forward | norms |
/// |---|---|---|---|---|
/// | PyTorch | `{p}layers.{i}.` | `self_attn.in_proj_weight` (or `q/k/v_proj_weight`), `out_proj`; cross `multihead_attn` | `linear1`, `linear2` | `norm1..3`; final `{p}norm` |
/// | keras_hub | `layers.transformer_encoder[_n].` | `_self_attention_layer.{query,key,value,output}_dense`; cross `_cross_attention_layer` | `_feedforward_intermediate_dense`, `_feedforward_output_dense` | `_self_attention_layer_norm`, `_cross_attention_layer_norm`, `_feedforward_layer_norm` |
/// | HF BERT | `{p}layer.{i}.` | `attention.self.{query,key,value}`, `attention.output.dense` | `intermediate.dense`, `output.dense` | `attention.output.LayerNorm`, `output.LayerNorm` |
/// | HF BART | `{p}layers.{i}.` | `self_attn.{q,k,v,out}_proj`; cross `encoder_attn` | `fc1`, `fc2` | `self_attn_layer_norm`, `encoder_attn_layer_norm`, `final_layer_norm`; final `{p}layer_norm` |
package struct TransformerRecognizer {
  /// The tensor names of one attention block.
  package struct AttentionNames {
    package var query: String
    package var queryBias: String?
    package var key: String
    package var keyBias: String?
    package var value: String
    package var valueBias: String?
    package var output: String
    package var outputBias: String?
    /// PyTorch's packed `in_proj_weight` `[3E, E]`: `query`, `key` and `value` name the same tensor.
    package var packed: Bool = false
  }

  /// A norm's scale and offset names.
  package struct NormNames {
    package var gamma: String
    package var beta: String
  }

  /// The tensor names of one layer.
  package struct LayerNames {
    package var prefix: String
    package var selfAttention: AttentionNames
    package var crossAttention: AttentionNames?
    package var inner: (weight: String, bias: String?)
    package var outer: (weight: String, bias: String?)
    /// norm1, norm2 (and norm3 for decoders), in the PyTorch roles.
    package var norms: [NormNames]
  }

  /// A stack of layers with an optional final norm.
  package struct Stack {
    package var prefix: String
    package var layout: Naming
    package var layers: [LayerNames]
    package var finalNorm: NormNames?
    package var isDecoder: Bool { layers.first?.crossAttention != nil }
  }

  package let parameters: ParameterSet

  package init(parameters: ParameterSet) { self.parameters = parameters }

  /// Every stack found, in the first layout that has any.
  package func stacks() -> [Stack] {
    for finder in [pytorch, hfBert, hfBart, kerasHub] {
      let found = finder()
      if !found.isEmpty { return found }
    }
    return []
  }

  private func bias(_ name: String) -> String? { parameters.contains(name) ? name : nil }

  private func norm(_ prefix: String) -> NormNames {
    if parameters.contains(prefix + "gamma") {
      return NormNames(gamma: prefix + "gamma", beta: prefix + "beta")
    }
    return NormNames(gamma: prefix + "weight", beta: prefix + "bias")
  }

  /// Groups `(stack prefix, layer index)` hits into ordered stacks.
  private func grouped(
    _ pattern: String, layout: Naming, layer: (String, Int) -> LayerNames, finalNorm: String?
  )
    -> [Stack]
  {
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
      if let finalNorm, parameters.contains(prefix + finalNorm + ".weight") {
        final = NormNames(gamma: prefix + finalNorm + ".weight", beta: prefix + finalNorm + ".bias")
      }
      return Stack(
        prefix: prefix, layout: layout, layers: indices.map { layer(prefix, $0) }, finalNorm: final)
    }
  }

  private func pytorch() -> [Stack] {
    func attention(_ p: String) -> AttentionNames {
      if parameters.contains(p + "in_proj_weight") {
        let w = p + "in_proj_weight"
        let b = bias(p + "in_proj_bias")
        return AttentionNames(
          query: w, queryBias: b, key: w, keyBias: b, value: w, valueBias: b, output: p + "out_proj.weight",
          outputBias: bias(p + "out_proj.bias"), packed: true)
      }
      let b = bias(p + "in_proj_bias")
      return AttentionNames(
        query: p + "q_proj_weight", queryBias: b, key: p + "k_proj_weight", keyBias: b,
        value: p + "v_proj_weight",
        valueBias: b, output: p + "out_proj.weight", outputBias: bias(p + "out_proj.bias"), packed: b != nil)
    }
    return grouped(
      #"(.*)layers\.(\d+)\.self_attn\.(?:in_proj_weight|q_proj_weight)"#, layout: .pytorch,
      layer: {
        prefix, index in
        let p = "\(prefix)layers.\(index)."
        let decoder = parameters.contains(p + "multihead_attn.out_proj.weight")
        return LayerNames(
          prefix: p, selfAttention: attention(p + "self_attn."),
          crossAttention: decoder ? attention(p + "multihead_attn.") : nil,
          inner: (p + "linear1.weight", bias(p + "linear1.bias")),
          outer: (p + "linear2.weight", bias(p + "linear2.bias")),
          norms: (decoder ? ["norm1.", "norm2.", "norm3."] : ["norm1.", "norm2."]).map { norm(p + $0) })
      }, finalNorm: "norm")
  }

  private func hfBert() -> [Stack] {
    grouped(
      #"(.*)layer\.(\d+)\.attention\.self\.query\.weight"#, layout: .hfBert,
      layer: { prefix, index in
        let p = "\(prefix)layer.\(index)."
        let a = p + "attention.self."
        return LayerNames(
          prefix: p,
          selfAttention: AttentionNames(
            query: a + "query.weight", queryBias: bias(a + "query.bias"), key: a + "key.weight",
            keyBias: bias(a + "key.bias"), value: a + "value.weight", valueBias: bias(a + "value.bias"),
            output: p + "attention.output.dense.weight", outputBias: bias(p + "attention.output.dense.bias")),
          crossAttention: nil,
          inner: (p + "intermediate.dense.weight", bias(p + "intermediate.dense.bias")),
          outer: (p + "output.dense.weight", bias(p + "output.dense.bias")),
          norms: [norm(p + "attention.output.LayerNorm."), norm(p + "output.LayerNorm.")])
      }, finalNorm: nil)
  }

  private func hfBart() -> [Stack] {
    func attention(_ a: String) -> AttentionNames {
      AttentionNames(
        query: a + "q_proj.weight", queryBias: bias(a + "q_proj.bias"), key: a + "k_proj.weight",
        keyBias: bias(a + "k_proj.bias"), value: a + "v_proj.weight", valueBias: bias(a + "v_proj.bias"),
        output: a + "out_proj.weight", outputBias: bias(a + "out_proj.bias"))
    }
    return grouped(
      #"(.*)layers\.(\d+)\.self_attn\.q_proj\.weight"#, layout: .hfBart,
      layer: { prefix, index in
        let p = "\(prefix)layers.\(index)."
        let decoder = parameters.contains(p + "encoder_attn.q_proj.weight")
        let norms =
          decoder
          ? ["self_attn_layer_norm.", "encoder_attn_layer_norm.", "final_layer_norm."]
          : ["self_attn_layer_norm.", "final_layer_norm."]
        return LayerNames(
          prefix: p, selfAttention: attention(p + "self_attn."),
          crossAttention: decoder ? attention(p + "encoder_attn.") : nil,
          inner: (p + "fc1.weight", bias(p + "fc1.bias")), outer: (p + "fc2.weight", bias(p + "fc2.bias")),
          norms: norms.map { norm(p + $0) })
      }, finalNorm: "layer_norm")
  }

  /// keras_hub `TransformerEncoder` / `TransformerDecoder` layers in a Keras 3 `.weights.h5`.
  private func kerasHub() -> [Stack] {
    func attention(_ a: String) -> AttentionNames {
      AttentionNames(
        query: a + "query_dense.vars.0", queryBias: bias(a + "query_dense.vars.1"),
        key: a + "key_dense.vars.0",
        keyBias: bias(a + "key_dense.vars.1"), value: a + "value_dense.vars.0",
        valueBias: bias(a + "value_dense.vars.1"), output: a + "output_dense.vars.0",
        outputBias: bias(a + "output_dense.vars.1"))
    }
    func kerasNorm(_ p: String) -> NormNames { NormNames(gamma: p + "vars.0", beta: p + "vars.1") }
    let prefixes = parameters.matches(#"(.*)\._self_attention_layer\.query_dense\.vars\.0"#).map {
      $0.groups[0]
    }
    let ordered = prefixes.sorted { kerasOrder(lastComponent($0), lastComponent($1)) }
    var encoders: [LayerNames] = []
    var decoders: [LayerNames] = []
    for prefix in ordered {
      let p = prefix + "."
      let decoder = parameters.contains(p + "_cross_attention_layer.query_dense.vars.0")
      let norms =
        decoder
        ? ["_self_attention_layer_norm.", "_cross_attention_layer_norm.", "_feedforward_layer_norm."]
        : ["_self_attention_layer_norm.", "_feedforward_layer_norm."]
      let layer = LayerNames(
        prefix: p, selfAttention: attention(p + "_self_attention_layer."),
        crossAttention: decoder ? attention(p + "_cross_attention_layer.") : nil,
        inner: (
          p + "_feedforward_intermediate_dense.vars.0", bias(p + "_feedforward_intermediate_dense.vars.1")
        ),
        outer: (p + "_feedforward_output_dense.vars.0", bias(p + "_feedforward_output_dense.vars.1")),
        norms: norms.map { kerasNorm(p + $0) })
      if decoder { decoders.append(layer) } else { encoders.append(layer) }
    }
    var stacks: [Stack] = []
    if !encoders.isEmpty {
      stacks.append(Stack(prefix: "", layout: .keras3, layers: encoders, finalNorm: nil))
    }
    if !decoders.isEmpty {
      stacks.append(Stack(prefix: "", layout: .keras3, layers: decoders, finalNorm: nil))
    }
    // keras_hub layers have no final norm; a model that has one (nn.Transformer's) is the stacks
    // followed by LayerNormalization layers. When the file holds only the stacks and as many
    // `layer_normalization[_N]` layers, those are the final norms: the encoder's first.
    let norms = parameters.matches(#"layers\.(layer_normalization(?:_\d+)?)\.vars\.0"#).map { $0.groups[0] }
      .sorted(by: kerasOrder)
    let owned = ordered.map { $0 + "." } + norms.map { "layers.\($0)." }
    if !stacks.isEmpty, norms.count == stacks.count,
      parameters.names.allSatisfy({ name in owned.contains { name.hasPrefix($0) } })
    {
      for (index, norm) in norms.enumerated() {
        stacks[index].finalNorm = NormNames(gamma: "layers.\(norm).vars.0", beta: "layers.\(norm).vars.1")
      }
    }
    return stacks
  }

  private func lastComponent(_ name: String) -> String {
    name.split(separator: ".").last.map(String.init) ?? name
  }
}
