extension LayoutTable {
  /// nn.LSTM: `weight_ih_l{k}[_reverse]` `[4H, I]`, `weight_hh` `[4H, H]`, `bias_ih`, `bias_hh` `[4H]`,
  /// `weight_hr` `[P, H]`; gates i, f, g, o. `{s}` is `_l{k}` or `_l{k}_reverse`.
  static let lstmPyTorch = LayoutTable(
    .lstm, .pytorch,
    [
      ParameterRule("weight_ih{s}", "weight_ih"), ParameterRule("weight_hh{s}", "weight_hh"),
      ParameterRule("bias_ih{s}", "bias_ih"), ParameterRule("bias_hh{s}", "bias_hh"),
      ParameterRule("weight_hr{s}", "weight_hr"),
    ])

  /// The `{s}` of a PyTorch RNN cell's names: `_l{k}`, and `_l{k}_reverse` for direction 1.
  package static func pytorchRNNSuffix(layer: Int, direction: Int) -> String {
    "_l\(layer)" + (direction == 1 ? "_reverse" : "")
  }

  /// A regex for every ``pytorchRNNSuffix(layer:direction:)``, capturing the layer and `_reverse`.
  package static let pytorchRNNSuffixPattern = #"_l(\d+)(_reverse)?"#
}
