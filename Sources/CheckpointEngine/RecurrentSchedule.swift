/// How a recurrent forward pass (``LSTM``, ``GRU``) shares its work among threads.
///
/// A unidirectional stack runs `group` layers at a time as a wavefront, one layer per thread:
/// layer l + 1 follows layer l a chunk of steps behind, projecting each chunk of layer l's
/// output as soon as it is there; a thread waiting for its next chunk runs projections ready
/// for the others (see ``Wavefront``). The two directions of a bidirectional layer run side by
/// side. Each thread makes its products on `productThreads` threads (BLAS itself single-threaded),
/// since the small per-step products gain little from splitting while a layer per thread scales.
///
/// An LSTM's larger unidirectional layers share their hidden units among the threads instead
/// (`parties`, see the LSTM initialiser).
///
/// The schedule depends only on the model, the sequence length and the thread count, and a layer
/// run alone uses it too, so its products have the same shapes and it gives the same values, bit
/// for bit, as in a whole forward pass.
struct RecurrentSchedule: Sendable {
  /// Layers run together (1: one layer at a time).
  var group: Int
  /// Time steps per input projection (`T`: the whole sequence in one product).
  var chunk: Int
  /// Threads for each layer's or direction's products.
  var productThreads: Int
  /// Threads sharing the hidden units of one layer (LSTM only; 1: none).
  var parties = 1

  init(layers: Int, directions: Int, steps: Int, threads: Int) {
    let threads = max(1, threads)
    group = directions == 1 ? max(1, min(threads, layers)) : 1
    // Small enough for the next layer to start soon, large enough for an efficient projection.
    chunk = group > 1 ? max(1, min(16, (steps + 7) / 8)) : max(1, steps)
    productThreads = group * directions > 1 ? max(1, threads / (group * directions)) : threads
  }

  /// An LSTM's unidirectional layers instead run one at a time with their hidden units shared
  /// among the threads (``LSTM/forwardSplit(_:_:h0:c0:parties:)``): with a single layer's weights
  /// streamed at a time, this measured faster than the wavefront (2 × 512 units: 34 vs 41 ms).
  init(_ lstm: LSTM, steps: Int, threads: Int) {
    self.init(layers: lstm.layers.count, directions: lstm.directions, steps: steps, threads: threads)
    if lstm.directions == 1, threads > 1, lstm.hiddenSize >= 64 {
      parties = min(threads, lstm.hiddenSize / 32)
      group = 1
      chunk = max(1, steps)
      productThreads = 1
    }
  }

  init(_ gru: GRU, steps: Int, threads: Int) {
    self.init(layers: gru.layers.count, directions: gru.directions, steps: steps, threads: threads)
  }
}
