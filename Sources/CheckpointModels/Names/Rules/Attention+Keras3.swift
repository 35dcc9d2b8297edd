extension LayoutTable {
  /// A standalone Keras 3 MultiHeadAttention: `{query,key,value,output}_dense/vars/0,1`.
  static let attentionKeras3 = LayoutTable(.attention, .keras3, keras3Attention("", "self"))
}
