extension LayoutTable {
  /// nn.GRU: `weight_ih_l{k}[_reverse]` `[3H, I]`, `weight_hh` `[3H, H]`, `bias_ih`, `bias_hh` `[3H]`;
  /// gates r, z, n.
  static let gruPyTorch = LayoutTable(
    .gru, .pytorch,
    [
      ParameterRule("weight_ih{s}", "weight_ih"), ParameterRule("weight_hh{s}", "weight_hh"),
      ParameterRule("bias_ih{s}", "bias_ih"), ParameterRule("bias_hh{s}", "bias_hh"),
    ])
}
