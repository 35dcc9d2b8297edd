import Foundation

/// The shared bookkeeping of recurrent lanes (directions of layers) run side by side over
/// chunks of time steps.
///
/// Each lane has one projection task per chunk (the input product of the chunk's steps),
/// which any thread may run once the lane's input for the chunk exists, and a recurrence
/// over its chunks in order, which only the lane's own thread runs. A lane may read the output
/// of one lower lane, its source (the layer below in a wavefront), chunk by chunk: its
/// projection of chunk j waits for the source's recurrence of chunk j.
///
/// A thread whose next recurrence cannot start yet runs whichever projection task is ready
/// instead (the earliest chunk first), so the lanes share the projections and no thread idles
/// while there is work. A lane only ever waits for lower lanes or for tasks other threads are
/// running, so the lanes finish however few threads actually run them.
final class Wavefront: @unchecked Sendable {
  /// What a lane's thread does next.
  enum Work: Equatable {
    /// Run the lane's recurrence over the chunk asked for.
    case recur
    /// Run the projection of `chunk` for `lane`, then call ``projected(lane:chunk:)``.
    case project(lane: Int, chunk: Int)
  }

  private enum Task: UInt8 {
    case open, claimed, done
  }

  private let condition = NSCondition()
  private let chunks: Int
  private let sources: [Int?]
  /// `tasks[lane · chunks + chunk]`.
  private var tasks: [Task]
  /// Per lane, the chunks whose recurrence is done.
  private var recurred: [Int]
  /// Per lane, no open task below this chunk.
  private var firstOpen: [Int]

  /// Lanes reading the output of `sources[lane]` (a lower lane) or given input (nil), over `chunks` chunks.
  init(sources: [Int?], chunks: Int) {
    self.chunks = chunks
    self.sources = sources
    tasks = Array(repeating: .open, count: sources.count * chunks)
    recurred = Array(repeating: 0, count: sources.count)
    firstOpen = Array(repeating: 0, count: sources.count)
  }

  /// The next thing for `lane`'s thread to do before the recurrence of `chunk` (nil: the lane
  /// is done and only helps): `.recur` once the chunk's projection is done, a projection task
  /// to run, or nil when a helping thread finds no ready task. Blocks while there is nothing to do.
  func next(lane: Int, chunk: Int?) -> Work? {
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let chunk {
        switch tasks[lane * chunks + chunk] {
        case .done: return .recur
        case .open where isReady(lane, chunk): return claim(lane, chunk)
        default: break
        }
      }
      if let (other, index) = readyTask() { return claim(other, index) }
      if chunk == nil { return nil }
      condition.wait()
    }
  }

  /// Runs `lane` on the calling thread: before each of its `chunks` recurrences, the
  /// projections the board hands this thread (`project(lane, chunk)`), then `recur(chunk)`;
  /// at the end, the projections still left for other lanes.
  func run(
    lane: Int, chunks: Int, project: (_ lane: Int, _ chunk: Int) -> Void, recur: (_ chunk: Int) -> Void
  ) {
    for index in 0..<chunks {
      while case .project(let other, let task) = next(lane: lane, chunk: index) {
        project(other, task)
        projected(lane: other, chunk: task)
      }
      recur(index)
      recurred(lane: lane, chunk: index)
    }
    while case .project(let other, let task) = next(lane: lane, chunk: nil) {
      project(other, task)
      projected(lane: other, chunk: task)
    }
  }

  /// Runs the `lanes` lanes of consecutive recurrent layers of `directions` directions each
  /// (lane `layer · directions + direction`), each on a thread of its own with
  /// `runLane(lane, board)`, over one board of `chunks` chunks. A unidirectional layer reads the
  /// layer below chunk by chunk; only unidirectional layers run several at a time, since a
  /// bidirectional layer needs all of the layer below.
  static func runLayers(
    lanes: Int, directions: Int, chunks: Int, _ runLane: @escaping @Sendable (Int, Wavefront) -> Void
  ) {
    let board = Wavefront(
      sources: (0..<lanes).map { directions == 1 && $0 > 0 ? $0 - 1 : nil }, chunks: chunks)
    if lanes > 1 {
      DispatchQueue.concurrentPerform(iterations: lanes) { runLane($0, board) }
    } else {
      runLane(0, board)
    }
  }

  /// The first step and the number of steps of chunk `index` when `steps` steps are cut into
  /// chunks of `chunk` (counted from the end when `reverse`).
  static func span(_ index: Int, chunk: Int, steps: Int, reverse: Bool) -> (t0: Int, n: Int) {
    let start = index * chunk
    let n = min(chunk, steps - start)
    return (reverse ? steps - start - n : start, n)
  }

  /// Records that the projection of `chunk` for `lane` is done.
  func projected(lane: Int, chunk: Int) {
    condition.lock()
    tasks[lane * chunks + chunk] = .done
    condition.broadcast()
    condition.unlock()
  }

  /// Records that `lane`'s recurrence has run through `chunk`.
  func recurred(lane: Int, chunk: Int) {
    condition.lock()
    recurred[lane] = chunk + 1
    condition.broadcast()
    condition.unlock()
  }

  private func isReady(_ lane: Int, _ chunk: Int) -> Bool {
    sources[lane].map { recurred[$0] > chunk } ?? true
  }

  private func claim(_ lane: Int, _ chunk: Int) -> Work {
    tasks[lane * chunks + chunk] = .claimed
    while firstOpen[lane] < chunks, tasks[lane * chunks + firstOpen[lane]] != .open { firstOpen[lane] += 1 }
    return .project(lane: lane, chunk: chunk)
  }

  /// The open, ready task of the earliest chunk (then the lowest lane).
  private func readyTask() -> (Int, Int)? {
    var best: (Int, Int)?
    for lane in sources.indices {
      var chunk = firstOpen[lane]
      while chunk < chunks, chunk < (best?.1 ?? chunks) {
        if tasks[lane * chunks + chunk] == .open {
          if isReady(lane, chunk) { best = (lane, chunk) }
          break
        }
        chunk += 1
      }
    }
    return best
  }
}

/// The shape of one pass of recurrent lanes over a board: the batch, the time steps, the length
/// of the chunks the steps are cut into, and the threads each product may use.
struct WavefrontShape {
  var batch: Int
  var steps: Int
  var chunk: Int
  var threads: Int
}

/// A pass of LSTM or GRU lanes over one ``Wavefront`` board, whose shape's fields read as its own.
protocol WavefrontPass {
  var shape: WavefrontShape { get }
}

extension WavefrontPass {
  var batch: Int { shape.batch }
  var steps: Int { shape.steps }
  var chunk: Int { shape.chunk }
  /// The threads each product may use.
  var threads: Int { shape.threads }

  /// The first step and the number of steps of a lane's `index`th chunk (from the end when reversed).
  func span(_ index: Int, reverse: Bool) -> (t0: Int, n: Int) {
    Wavefront.span(index, chunk: chunk, steps: steps, reverse: reverse)
  }
}

/// One lane of a pass: one direction of one recurrent layer, with where it reads and writes.
/// `State` is what the cell keeps beside `h`: an LSTM's cell state, nothing for a GRU.
struct WavefrontLane<Cell, State> {
  var cell: Cell
  var reverse: Bool
  /// The input `[B, T, ldx]`.
  var x: UnsafePointer<Float>
  var ldx: Int
  /// The input projections `[T·B, gates·H]`, chunk after chunk, each chunk batch-major (row
  /// b·n + s for step s of n).
  var gates: UnsafeMutablePointer<Float>
  /// Where the lane's output columns start in `[B, T, ldy]`.
  var y: UnsafeMutablePointer<Float>
  var ldy: Int
  /// The output state `[B, H]` (`[B, R]` for an LSTM with a projection), updated in place.
  var h: UnsafeMutablePointer<Float>
  /// The cell's other state, updated in place.
  var state: State
}

extension WavefrontLane {
  /// The `lanes` lanes of consecutive layers of `directions` directions each (lane
  /// `layer · directions + direction`, direction 1 reversed): layer 0 reads `input`
  /// `[B, T, inputColumns]`, each layer above reads the output of the one below, and each
  /// direction writes its `columns` columns at `direction · columns` of its layer's output
  /// `[B, T, width]`.
  static func stack(
    lanes: Int, directions: Int, cell: (_ layer: Int, _ direction: Int) -> Cell,
    input: UnsafePointer<Float>, inputColumns: Int, outputs: [FloatBuffer], width: Int, columns: Int,
    gates: [FloatBuffer], h: [FloatBuffer], state: (_ lane: Int) -> State
  ) -> [Self] {
    (0..<lanes).map { lane in
      let (layer, direction) = lane.quotientAndRemainder(dividingBy: directions)
      return Self(
        cell: cell(layer, direction), reverse: direction == 1,
        x: layer == 0 ? input : UnsafePointer(outputs[layer - 1].pointer),
        ldx: layer == 0 ? inputColumns : width,
        gates: gates[lane].pointer, y: outputs[layer].pointer + direction * columns, ldy: width,
        h: h[lane].pointer, state: state(lane))
    }
  }
}
