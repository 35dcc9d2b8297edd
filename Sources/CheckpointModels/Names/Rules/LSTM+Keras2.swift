extension LayoutTable {
  /// tf.keras 2 LSTM cell: `kernel:0` `[I, 4H]`, `recurrent_kernel:0` `[H, 4H]`, `bias:0` `[4H]`;
  /// gates i, f, c, o (PyTorch's order). The bias is `b_ih + b_hh`.
  static let lstmKeras2 = LayoutTable(
    .lstm, .keras2,
    [
      ParameterRule("kernel:0", "weight_ih", [.transpose]),
      ParameterRule("recurrent_kernel:0", "weight_hh", [.transpose]),
      ParameterRule("bias:0", ["bias_ih", "bias_hh"], [.sum]),
    ])
}
