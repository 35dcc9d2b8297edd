extension LayoutTable {
  /// Keras 3 Dense: `vars/0` kernel `[in, out]`, `vars/1` bias.
  static let linearKeras3 = LayoutTable(
    .linear, .keras3, [ParameterRule("vars/0", "weight", [.transpose]), ParameterRule("vars/1", "bias")])
  /// Keras 3 Embedding: `vars/0` `[V, E]`.
  static let embeddingKeras3 = LayoutTable(.embedding, .keras3, [ParameterRule("vars/0", "weight")])
  /// Keras 3 LayerNormalization: `vars/0` gamma, `vars/1` beta.
  static let layerNormKeras3 = LayoutTable(
    .layerNorm, .keras3, [ParameterRule("vars/0", "weight"), ParameterRule("vars/1", "bias")])
}
