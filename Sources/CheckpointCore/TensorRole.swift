/// What a tensor of a checkpoint is to the model: one of its **parameters** (what it computes
/// with), a **buffer** (state it keeps but does not learn: position ids, BatchNorm running
/// statistics, counters), or **training state** (what an optimizer, a scheduler or a loop saved
/// beside the model: Adam's moments, step counts, RNG state).
///
/// Only parameters count as parameters (``Checkpoint/parameterCount``); `ckpt inspect` shows the
/// other two in sections of their own, and conversions that cannot carry them say so.
public enum TensorRole: String, Sendable, CaseIterable {
  /// Learned weights.
  case parameter
  /// Model state that is not learned.
  case buffer
  /// Optimizer, scheduler and training-loop state.
  case trainingState = "training_state"

  /// The first path component of a tensor name that marks training state: the keys training
  /// scripts save optimizer and scheduler state under (PyTorch `{"optimizer": ...}`,
  /// `optimizer_state_dict`, ...), Keras 2's `optimizer_weights` group and Keras 3's `optimizer`.
  public static let trainingStateRoots: Set<String> = [
    "optimizer", "optimizer_weights", "optimizer_state_dict", "optimizer_state", "optimizers", "optim",
    "opt_state", "scheduler", "lr_scheduler", "scheduler_state_dict", "scaler", "grad_scaler", "amp_scaler",
    "rng_state", "rng_states",
  ]

  /// Whole names of the loop counters training scripts save at the top level.
  public static let trainingCounters: Set<String> = [
    "epoch", "step", "global_step", "iteration", "iter", "best_metric", "best_loss",
  ]

  /// The last path component of a buffer: BatchNorm's running statistics and counter
  /// (PyTorch and Keras 2 spellings) and Hugging Face's position and token-type ids.
  public static let bufferLeaves: Set<String> = [
    "running_mean", "running_var", "num_batches_tracked", "moving_mean", "moving_variance", "position_ids",
    "token_type_ids",
  ]

  /// The role of `tensor`, from its name and dtype: training state under one of
  /// ``trainingStateRoots`` or named one of ``trainingCounters``; a buffer when its last
  /// component is one of ``bufferLeaves`` or it holds integers wider than a byte or booleans
  /// (no learned weight is stored so); a parameter otherwise (int8 and block-quantized weights
  /// included).
  public static func of(_ tensor: TensorInfo) -> TensorRole {
    let parts = tensor.name.split(whereSeparator: { $0 == "." || $0 == "/" })
    guard let first = parts.first, let last = parts.last else { return .parameter }
    if trainingStateRoots.contains(String(first)) { return .trainingState }
    if parts.count == 1, trainingCounters.contains(String(first)) { return .trainingState }
    // Keras 2 spells a dataset `name:0`.
    let leaf = last.split(separator: ":").first.map(String.init) ?? String(last)
    if bufferLeaves.contains(leaf) { return .buffer }
    switch tensor.dtype {
    case .i16, .i32, .i64, .u16, .u32, .u64, .bool: return .buffer
    default: return .parameter
    }
  }
}

extension Checkpoint {
  /// The number of elements of the tensors in `role`.
  public func elementCount(_ role: TensorRole) -> Int {
    tensors.reduce(0) { $0 &+ (TensorRole.of($1.info) == role ? ($1.info.elementCount ?? 0) : 0) }
  }
}
