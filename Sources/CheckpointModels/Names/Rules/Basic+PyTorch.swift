extension LayoutTable {
  /// nn.Linear: `weight` `[out, in]`, `bias`.
  static let linearPyTorch = LayoutTable(
    .linear, .pytorch, [ParameterRule("weight", "weight"), ParameterRule("bias", "bias")])
  /// nn.Embedding: `weight` `[V, E]`.
  static let embeddingPyTorch = LayoutTable(.embedding, .pytorch, [ParameterRule("weight", "weight")])
  /// nn.LayerNorm: `weight`, `bias` (old checkpoints: `gamma`, `beta`).
  static let layerNormPyTorch = LayoutTable(
    .layerNorm, .pytorch, [ParameterRule("weight", "weight"), ParameterRule("bias", "bias")],
    readOnly: [ParameterRule("gamma", "weight"), ParameterRule("beta", "bias")])
}
