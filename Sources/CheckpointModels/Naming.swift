/// The naming a checkpoint's parameters follow: the one vocabulary of framework layouts that
/// the recognisers, the engine and the layout converter share.
///
/// The raw values are the spellings `ckpt run --json`, `ckpt verify` and the layout rules use.
/// The command line's `--layout` and `ckpt inspect` speak of layout families, where Keras 2 is
/// `keras` and both Hugging Face namings are `hf` (`CheckpointConversion.Layout`).
public enum Naming: String, Sendable, CaseIterable {
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

  /// The path separator of the naming's tensor names.
  public var separator: String { self == .keras2 || self == .keras3 ? "/" : "." }
}
