extension LayoutTable {
  /// tf.keras 2 Dense: `kernel:0` `[in, out]`, `bias:0`.
  static let linearKeras2 = LayoutTable(
    .linear, .keras2, [ParameterRule("kernel:0", "weight", [.transpose]), ParameterRule("bias:0", "bias")])
  /// tf.keras 2 Embedding: `embeddings:0` `[V, E]`.
  static let embeddingKeras2 = LayoutTable(.embedding, .keras2, [ParameterRule("embeddings:0", "weight")])
  /// tf.keras 2 LayerNormalization: `gamma:0`, `beta:0`.
  static let layerNormKeras2 = LayoutTable(
    .layerNorm, .keras2, [ParameterRule("gamma:0", "weight"), ParameterRule("beta:0", "bias")])
}
