extension LayoutTable {
  /// Hugging Face BERT layer: `attention.self.{query,key,value}`, `attention.output.dense`,
  /// `attention.output.LayerNorm` (norm1), `intermediate.dense` (linear1), `output.dense` (linear2),
  /// `output.LayerNorm` (norm2). All Linear weights `[out, in]`. A stack's layers are `layer.{i}.`;
  /// there is no final norm.
  static let encoderHFBert = LayoutTable(
    .encoderLayer, .hfBert,
    [("query", "q"), ("key", "k"), ("value", "v")].flatMap { hf, part in
      [
        ParameterRule("attention.self.\(hf).weight", "self.\(part).weight"),
        ParameterRule("attention.self.\(hf).bias", "self.\(part).bias"),
      ]
    } + [
      ParameterRule("attention.output.dense.weight", "self.out.weight"),
      ParameterRule("attention.output.dense.bias", "self.out.bias"),
      ParameterRule("attention.output.LayerNorm.weight", "norm1.weight"),
      ParameterRule("attention.output.LayerNorm.bias", "norm1.bias"),
      ParameterRule("intermediate.dense.weight", "linear1.weight"),
      ParameterRule("intermediate.dense.bias", "linear1.bias"),
      ParameterRule("output.dense.weight", "linear2.weight"),
      ParameterRule("output.dense.bias", "linear2.bias"),
      ParameterRule("output.LayerNorm.weight", "norm2.weight"),
      ParameterRule("output.LayerNorm.bias", "norm2.bias"),
    ],
    readOnly: [
      ParameterRule("attention.output.LayerNorm.gamma", "norm1.weight"),
      ParameterRule("attention.output.LayerNorm.beta", "norm1.bias"),
      ParameterRule("output.LayerNorm.gamma", "norm2.weight"),
      ParameterRule("output.LayerNorm.beta", "norm2.bias"),
    ], stack: StackNames(layer: "layer.{i}."))
}
