extension LayoutTable {
  /// nn.MultiheadAttention under `attention` (`self_attn.`, `multihead_attn.`): packed
  /// `in_proj_weight [3E, E] = [W_q; W_k; W_v]`, `in_proj_bias`, `out_proj`.
  static func pytorchAttention(_ attention: String, _ role: String) -> [ParameterRule] {
    [
      ParameterRule(
        "\(attention)in_proj_weight", ["\(role).q.weight", "\(role).k.weight", "\(role).v.weight"], [.pack]),
      ParameterRule(
        "\(attention)in_proj_bias", ["\(role).q.bias", "\(role).k.bias", "\(role).v.bias"], [.pack]),
      ParameterRule("\(attention)out_proj.weight", "\(role).out.weight"),
      ParameterRule("\(attention)out_proj.bias", "\(role).out.bias"),
    ]
  }

  /// Separate projections (`kdim`/`vdim` ≠ E); read only: written packed.
  static func pytorchSeparateAttention(_ attention: String, _ role: String) -> [ParameterRule] {
    ["q", "k", "v"].map { ParameterRule("\(attention)\($0)_proj_weight", "\(role).\($0).weight") }
  }

  static let pytorchFeedForward = [
    ParameterRule("linear1.weight", "linear1.weight"), ParameterRule("linear1.bias", "linear1.bias"),
    ParameterRule("linear2.weight", "linear2.weight"), ParameterRule("linear2.bias", "linear2.bias"),
  ]

  static func pytorchNorms(_ count: Int) -> [ParameterRule] {
    (1...count).flatMap {
      [
        ParameterRule("norm\($0).weight", "norm\($0).weight"),
        ParameterRule("norm\($0).bias", "norm\($0).bias"),
      ]
    }
  }

  /// nn.TransformerEncoderLayer: `self_attn.*`, `linear1`, `linear2`, `norm1`, `norm2`; a stack's
  /// layers are `layers.{i}.`, nn.Transformer's final norm `norm`.
  static let encoderPyTorch = LayoutTable(
    .encoderLayer, .pytorch, pytorchAttention("self_attn.", "self") + pytorchFeedForward + pytorchNorms(2),
    readOnly: pytorchSeparateAttention("self_attn.", "self"),
    stack: StackNames(layer: "layers.{i}.", finalNorm: "norm."))

  /// nn.TransformerDecoderLayer: adds `multihead_attn.*` (cross-attention) and `norm3`.
  static let decoderPyTorch = LayoutTable(
    .decoderLayer, .pytorch,
    pytorchAttention("self_attn.", "self") + pytorchAttention("multihead_attn.", "cross") + pytorchFeedForward
      + pytorchNorms(3),
    readOnly: pytorchSeparateAttention("self_attn.", "self")
      + pytorchSeparateAttention("multihead_attn.", "cross"),
    stack: StackNames(layer: "layers.{i}.", finalNorm: "norm."))
}
