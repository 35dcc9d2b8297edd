extension LayoutTable {
  /// A standalone nn.MultiheadAttention: `in_proj_weight`, `in_proj_bias`, `out_proj.weight`,
  /// `out_proj.bias` (separate `q/k/v_proj_weight` read when kdim/vdim ≠ E).
  static let attentionPyTorch = LayoutTable(
    .attention, .pytorch, pytorchAttention("", "self"), readOnly: pytorchSeparateAttention("", "self"))
}
