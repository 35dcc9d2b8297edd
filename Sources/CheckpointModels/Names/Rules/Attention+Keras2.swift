extension LayoutTable {
  /// A standalone tf.keras 2 MultiHeadAttention: `{query,key,value}/kernel:0` `[E, heads, D]`,
  /// `bias:0` `[heads, D]`, `attention_output/kernel:0` `[heads, D, E]`, `bias:0` — in the
  /// layer's weight order (tf_keras loads `.h5` weights by order).
  static let attentionKeras2 = LayoutTable(
    .attention, .keras2,
    [("query", "q"), ("key", "k"), ("value", "v")].flatMap { keras, part in
      [
        ParameterRule("\(keras)/kernel:0", "self.\(part).weight", [.transpose, .splitHeads(axis: 1)]),
        ParameterRule("\(keras)/bias:0", "self.\(part).bias", [.splitHeads(axis: 0)]),
      ]
    } + [
      ParameterRule("attention_output/kernel:0", "self.out.weight", [.transpose, .splitHeads(axis: 0)]),
      ParameterRule("attention_output/bias:0", "self.out.bias"),
    ])
}
