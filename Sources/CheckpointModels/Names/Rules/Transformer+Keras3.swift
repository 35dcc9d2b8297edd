extension LayoutTable {
  /// keras MultiHeadAttention inside a keras_hub layer: `{query,key,value}_dense/vars/0` kernel
  /// `[E, heads, head_dim]` (= `W.T` reshaped), `vars/1` bias `[heads, head_dim]`;
  /// `output_dense/vars/0` `[heads, head_dim, E]`, `vars/1` `[E]`.
  static func keras3Attention(_ attention: String, _ role: String) -> [ParameterRule] {
    [("query", "q"), ("key", "k"), ("value", "v")].flatMap { keras, part in
      [
        ParameterRule(
          "\(attention)\(keras)_dense/vars/0", "\(role).\(part).weight", [.transpose, .splitHeads(axis: 1)]),
        ParameterRule("\(attention)\(keras)_dense/vars/1", "\(role).\(part).bias", [.splitHeads(axis: 0)]),
      ]
    } + [
      ParameterRule(
        "\(attention)output_dense/vars/0", "\(role).out.weight", [.transpose, .splitHeads(axis: 0)]),
      ParameterRule("\(attention)output_dense/vars/1", "\(role).out.bias"),
    ]
  }

  static func keras3Norm(_ name: String, _ role: String) -> [ParameterRule] {
    [ParameterRule("\(name)/vars/0", "\(role).weight"), ParameterRule("\(name)/vars/1", "\(role).bias")]
  }

  static let keras3FeedForward = [
    ParameterRule("_feedforward_intermediate_dense/vars/0", "linear1.weight", [.transpose]),
    ParameterRule("_feedforward_intermediate_dense/vars/1", "linear1.bias"),
    ParameterRule("_feedforward_output_dense/vars/0", "linear2.weight", [.transpose]),
    ParameterRule("_feedforward_output_dense/vars/1", "linear2.bias"),
  ]

  /// keras_hub TransformerEncoder: `_self_attention_layer/…`, `_self_attention_layer_norm` (norm1),
  /// `_feedforward_intermediate_dense`, `_feedforward_output_dense`, `_feedforward_layer_norm` (norm2).
  static let encoderKeras3 = LayoutTable(
    .encoderLayer, .keras3,
    keras3Attention("_self_attention_layer/", "self") + keras3Norm("_self_attention_layer_norm", "norm1")
      + keras3FeedForward + keras3Norm("_feedforward_layer_norm", "norm2"))

  /// keras_hub TransformerDecoder: adds `_cross_attention_layer/…` and `_cross_attention_layer_norm`
  /// (norm2); `_feedforward_layer_norm` is norm3.
  static let decoderKeras3 = LayoutTable(
    .decoderLayer, .keras3,
    keras3Attention("_self_attention_layer/", "self") + keras3Norm("_self_attention_layer_norm", "norm1")
      + keras3Attention("_cross_attention_layer/", "cross")
      + keras3Norm("_cross_attention_layer_norm", "norm2")
      + keras3FeedForward + keras3Norm("_feedforward_layer_norm", "norm3"))
}
