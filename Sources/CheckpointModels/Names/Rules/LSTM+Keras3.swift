extension LayoutTable {
  /// Keras 3 LSTM cell: `vars/0` kernel `[I, 4H]`, `vars/1` recurrent kernel, `vars/2` bias
  /// (`b_ih + b_hh`); gates i, f, c, o.
  static let lstmKeras3 = LayoutTable(
    .lstm, .keras3,
    [
      ParameterRule("vars/0", "weight_ih", [.transpose]),
      ParameterRule("vars/1", "weight_hh", [.transpose]),
      ParameterRule("vars/2", ["bias_ih", "bias_hh"], [.sum]),
    ])
}
