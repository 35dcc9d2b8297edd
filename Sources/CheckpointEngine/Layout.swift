/// The naming scheme a checkpoint's parameters follow.
public enum Layout: String, Sendable, CaseIterable {
  /// PyTorch `state_dict` names (`weight_ih_l0`, `layers.0.self_attn.in_proj_weight`).
  case pytorch
  /// Keras 2 / tf_keras `.h5` names (`lstm/lstm/lstm_cell/kernel:0`).
  case keras2
  /// Keras 3 `.weights.h5` names (`layers/lstm/cell/vars/0`), including keras_hub layers.
  case keras3
  /// Hugging Face BERT names (`encoder.layer.0.attention.self.query.weight`).
  case hfBert = "hf-bert"
  /// Hugging Face BART/Marian names (`encoder.layers.0.self_attn.q_proj.weight`).
  case hfBart = "hf-bart"
}
