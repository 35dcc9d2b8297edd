extension LayoutTable {
  /// Keras 3 GRU cell (`reset_after=True`): `vars/0` kernel, `vars/1` recurrent kernel, `vars/2` bias
  /// `[2, 3H]`; gates z, r, h.
  static let gruKeras3 = LayoutTable(
    .gru, .keras3,
    [
      ParameterRule("vars/0", "weight_ih", [.gates([1, 0, 2], axis: 0), .transpose]),
      ParameterRule("vars/1", "weight_hh", [.gates([1, 0, 2], axis: 0), .transpose]),
      ParameterRule("vars/2", ["bias_ih", "bias_hh"], [.gates([1, 0, 2], axis: 0), .stack]),
    ])
}
