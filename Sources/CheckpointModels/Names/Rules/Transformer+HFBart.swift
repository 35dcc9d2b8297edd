extension LayoutTable {
  /// BART/Marian attention under `attention` (`self_attn.`, `encoder_attn.`): `{q,k,v,out}_proj`.
  static func bartAttention(_ attention: String, _ role: String) -> [ParameterRule] {
    [("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v"), ("out_proj", "out")].flatMap { hf, part in
      [
        ParameterRule("\(attention)\(hf).weight", "\(role).\(part).weight"),
        ParameterRule("\(attention)\(hf).bias", "\(role).\(part).bias"),
      ]
    }
  }

  static func bartNorm(_ name: String, _ role: String) -> [ParameterRule] {
    [ParameterRule("\(name).weight", "\(role).weight"), ParameterRule("\(name).bias", "\(role).bias")]
  }

  static let bartFeedForward = [
    ParameterRule("fc1.weight", "linear1.weight"), ParameterRule("fc1.bias", "linear1.bias"),
    ParameterRule("fc2.weight", "linear2.weight"), ParameterRule("fc2.bias", "linear2.bias"),
  ]

  /// BART/Marian encoder layer: `self_attn.*`, `self_attn_layer_norm` (norm1), `fc1`, `fc2`,
  /// `final_layer_norm` (norm2); a stack's layers are `layers.{i}.`, its final norm `layer_norm`.
  static let encoderHFBart = LayoutTable(
    .encoderLayer, .hfBart,
    bartAttention("self_attn.", "self") + bartNorm("self_attn_layer_norm", "norm1") + bartFeedForward
      + bartNorm("final_layer_norm", "norm2"),
    stack: StackNames(layer: "layers.{i}.", finalNorm: "layer_norm."))

  /// BART/Marian decoder layer: adds `encoder_attn.*` and `encoder_attn_layer_norm` (norm2);
  /// `final_layer_norm` is norm3.
  static let decoderHFBart = LayoutTable(
    .decoderLayer, .hfBart,
    bartAttention("self_attn.", "self") + bartNorm("self_attn_layer_norm", "norm1")
      + bartAttention("encoder_attn.", "cross") + bartNorm("encoder_attn_layer_norm", "norm2")
      + bartFeedForward
      + bartNorm("final_layer_norm", "norm3"),
    stack: StackNames(layer: "layers.{i}.", finalNorm: "layer_norm."))
}
