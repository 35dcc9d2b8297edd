extension LayoutTable {
  /// tf.keras 2 GRU cell (`reset_after=True`): `kernel:0` `[I, 3H]`, `recurrent_kernel:0` `[H, 3H]`,
  /// `bias:0` `[2, 3H]` (input row, recurrent row); gates z, r, h — PyTorch's r, z, n reordered.
  static let gruKeras2 = LayoutTable(
    .gru, .keras2,
    [
      ParameterRule("kernel:0", "weight_ih", [.gates([1, 0, 2], axis: 0), .transpose]),
      ParameterRule("recurrent_kernel:0", "weight_hh", [.gates([1, 0, 2], axis: 0), .transpose]),
      ParameterRule("bias:0", ["bias_ih", "bias_hh"], [.gates([1, 0, 2], axis: 0), .stack]),
    ])
}
