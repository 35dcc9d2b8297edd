import CheckpointCore
import CheckpointEngine
import CheckpointModels
import CheckpointQuantization
import Foundation

/// Processor time of the process (all threads), in `CLOCKS_PER_SEC` units.
private func cpuClock() -> clock_t { clock() }

/// Per-module numerical parity between two checkpoints: "same function", or where not.
///
/// ```swift
/// let report = try ParityVerifier.verify(a, b, options: ParityOptions(engine: ModelSettings(heads: 8)))
/// if !report.passed { print(report.firstFailure ?? "whole model") }
/// ```
///
/// Both checkpoints are assembled by the engine (any format and layout it recognises) and
/// their modules paired by canonical name (`CheckpointEngine/ModuleDescriptor`: layer
/// index and role, never raw tensor names). Then:
///
/// 1. A runs once on the inputs (given, or ``SeededInputs``), recording every module's
///    inputs and outputs;
/// 2. each of B's top-level modules (a Transformer layer, an RNN layer, a final norm, an
///    embedding) runs once on A's recorded inputs of that module, recording its sub-modules;
///    the layer and its sub-modules are compared with A's. When anything in a layer fails,
///    each sub-module is run again alone on A's recorded inputs, so every failure is
///    measured in isolation and the first failing module in execution order is the one
///    that diverges;
/// 3. B runs the whole architecture on the same inputs, compared output by output.
///
/// So verifying costs one forward pass of A and two of B. Modules on one side only, and
/// modules whose parameter shapes differ, fail by name.
public enum ParityVerifier {
  /// The order architectures are tried in when none is given (`Architecture/detectionOrder`).
  public static let detectionOrder = Architecture.detectionOrder

  /// Compares `b` against the reference `a`.
  ///
  /// - Throws: `CheckpointError` when either checkpoint cannot be assembled as the
  ///   architecture (the message starts with `A:` or `B:`), or the inputs do not fit A.
  public static func verify(_ a: Checkpoint, _ b: Checkpoint, options: ParityOptions = ParityOptions()) throws
    -> ParityReport
  {
    let clock = ContinuousClock()
    let started = clock.now
    // Quantized weights (Q8_0/Q4_0 blocks, int8 with scales) run as float32, as `ckpt run` runs
    // them; the tolerance still comes from the stored dtypes.
    let storedTolerance = Tolerance.default(for: [a, b])
    let a = try Dequantizer.dequantizingAll(a, halves: false)
    let b = try Dequantizer.dequantizingAll(b, halves: false)
    let architecture = try options.architecture ?? detect(a, options: options.engineA)
    let modelA = try CheckpointError.prefixing("A") { try assemble(a, architecture, options.engineA) }
    var modelB: Model
    var engineB = options.engineB
    var inherited: [String] = []
    if options.inheritSettings {
      let missing = ModelGraph.unresolvedSettings(architecture, from: b, settings: engineB)
      (engineB, inherited) = inheritedSettings(engineB, missing: missing, a: modelA)
    }
    do {
      modelB = try assemble(b, architecture, engineB)
    } catch let error as CheckpointError {
      // A weight that does not fit: fail the module it belongs to, by name, when it is known.
      guard let tensor = error.tensor,
        let module = ModuleLocator.modules(of: b, architecture: architecture)[tensor]
      else { throw error.prefixed("B") }
      let tolerance = storedTolerance
      let failed = ModuleParity(
        name: module, kind: modelA.modules.first { $0.name == module }?.kind ?? "module", statistics: nil,
        passed: false,
        reason:
          "B cannot be assembled: \(error.message) "
          + "(tensor '\(tensor)')")
      return ParityReport(
        assembleSeconds: seconds(clock.now - started), runSeconds: 0, runCPUSeconds: 0,
        architecture: architecture.rawValue,
        layoutA: modelA.layout.rawValue, layoutB: "unknown", tolerance: tolerance, inputs: [], seed: nil,
        modules: [failed],
        whole: ModuleParity(
          name: "model", kind: "model", statistics: nil, passed: false, reason: "B cannot be assembled"))
    }
    let assembled = clock.now
    let cpuStarted = cpuClock()
    var tolerance = storedTolerance
    if options.rtol != nil || options.atol != nil {
      tolerance = Tolerance(
        dtype: "custom", rtol: options.rtol ?? tolerance.rtol, atol: options.atol ?? tolerance.atol)
    }
    let inputs =
      try options.inputs
      ?? SeededInputs.make(
        for: modelA.inputSpecs, seed: options.seed, batch: options.batch, length: options.length)

    let traceA = ModuleTrace()
    let outputsA = try CheckpointError.prefixing("A") { try modelA.run(inputs, trace: traceA) }
    let modulesA = Dictionary(modelA.modules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let modulesB = Dictionary(modelB.modules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    var results: [ModuleParity] = []
    var pending: [ModuleRecord] = []  // sub-modules recorded before their layer
    for record in traceA.records {
      if record.parent != nil {
        pending.append(record)
        continue
      }
      let children = pending.filter { $0.parent == record.name }
      pending.removeAll { $0.parent == record.name }
      results += compareUnit(
        record, children: children, modelB: modelB, modulesA: modulesA, modulesB: modulesB,
        tolerance: tolerance)
    }
    let namesA = Set(modulesA.keys)
    for module in modelB.modules where !namesA.contains(module.name) {
      results.append(
        ModuleParity(
          name: module.name, kind: module.kind, statistics: nil, passed: false,
          reason: "only in B (missing in A)"))
    }

    results = failingKnownDifferences(results, modelA: modelA, modelB: modelB)
    let whole = compareWhole(outputsA, modelB: modelB, inputs: inputs, tolerance: tolerance)
    let outside = try outsideModules(
      a, b, modelA: modelA, modelB: modelB, tolerance: tolerance,
      heads: options.engineA.heads ?? options.engineB.heads)
    var report = ParityReport(
      assembleSeconds: seconds(assembled - started), runSeconds: seconds(clock.now - assembled),
      runCPUSeconds: Double(cpuClock() - cpuStarted) / Double(CLOCKS_PER_SEC),
      architecture: architecture.rawValue, layoutA: modelA.layout.rawValue, layoutB: modelB.layout.rawValue,
      tolerance: tolerance, inputs: inputs.tensors.map { ($0.name, $0.shape) },
      seed: options.inputs == nil ? options.seed : nil, modules: results, whole: whole,
      settingsFromA: inherited)
    report.outside = outside
    report.notes =
      skippedTrainingState(a, side: "A") + skippedTrainingState(b, side: "B")
      + unappliedFlags(options.engineA, modelA, side: "A", headsFlag: "--heads")
      + unappliedFlags(
        engineB, modelB, side: "B",
        headsFlag: options.engineB.heads != options.engineA.heads ? "--heads-b" : "--heads")
    return report
  }

  /// A line saying how many of `checkpoint`'s tensors are training state, which is not the
  /// model and is not compared (none: no line).
  static func skippedTrainingState(_ checkpoint: Checkpoint, side: String) -> [String] {
    let count = checkpoint.tensors.filter { TensorRole.of($0.info) == .trainingState }.count
    return count == 0
      ? []
      : [
        "\(count) training-state tensor(s) of \(side) (optimizer state, counters) are not the model: not compared"
      ]
  }

  /// A line for each setting given as a flag that a model did not take, because its naming or
  /// its shapes fix it (a Keras 3 file's kernels `[E, heads, head_dim]` give the heads): such a
  /// flag did nothing, and is said so rather than ignored.
  static func unappliedFlags(_ given: ModelSettings, _ model: Model, side: String, headsFlag: String)
    -> [String]
  {
    let flags: [(String, String, String?)] = [
      ("heads", headsFlag, given.heads.map(String.init)),
      ("activation", "--activation", given.activation?.rawValue),
      (
        "norm_first", given.normFirst == true ? "--norm-first" : "--no-norm-first",
        given.normFirst.map(String.init)
      ),
      ("eps", "--eps", given.eps.map { "\($0)" }),
    ]
    return flags.compactMap { name, flag, value in
      guard let value else { return nil }
      let settings = model.graph.nodes.compactMap { $0.setting(name) }
      guard let taken = settings.first, !settings.contains(where: { $0.source == .flag }) else { return nil }
      return
        "\(flag) \(value) does not apply to \(side): its \(taken.source.rawValue) give \(name) \(taken.value)"
    }
  }

  /// `results` with every module whose graph node has a setting that differs between A and B
  /// (eps, heads, activation, norm placement) failed, whatever its numbers: a difference that
  /// happens to land inside the tolerance on these inputs would not on others.
  static func failingKnownDifferences(
    _ results: [ModuleParity], modelA: Model, modelB: Model
  ) -> [ModuleParity] {
    results.map { result in
      guard let nodeA = modelA.graph.node(result.name), let nodeB = modelB.graph.node(result.name) else {
        return result
      }
      let differences = nodeA.settings.compactMap { setting -> String? in
        guard let other = nodeB.setting(setting.name), other.value != setting.value else { return nil }
        return "\(setting.name) \(setting.value) in A, \(other.value) in B"
      }
      guard !differences.isEmpty else { return result }
      var failed = result
      failed.passed = false
      let why = "settings differ: " + differences.joined(separator: ", ")
      failed.reason = failed.reason.map { $0 + "; " + why } ?? why
      return failed
    }
  }

  /// The tensors no module of either model reads (embeddings before a Transformer stack, a
  /// pooler, buffers), compared one by one as `ckpt diff` does, so that a pass speaks for every
  /// tensor of both files; `nil` when the modules read them all. A is first put in B's layout
  /// (the direction a conversion that made B went, so its names come out as B's); training
  /// state is not the model and is not compared.
  static func outsideModules(
    _ a: Checkpoint, _ b: Checkpoint, modelA: Model, modelB: Model, tolerance: Tolerance, heads: Int?
  ) throws -> TensorDiff.Report? {
    let usedA = Set(modelA.graph.nodes.flatMap { $0.parameters.map(\.tensor) })
    let usedB = Set(modelB.graph.nodes.flatMap { $0.parameters.map(\.tensor) })
    func outside(_ tensor: Tensor, _ used: Set<String>) -> Bool {
      !used.contains(tensor.name) && TensorRole.of(tensor.info) != .trainingState
    }
    guard
      a.tensors.contains(where: { outside($0, usedA) }) || b.tensors.contains(where: { outside($0, usedB) })
    else { return nil }
    let (aInB, note) = TensorDiff.normalizing(a, toLayoutOf: b, heads: heads, names: ("A", "B"))
    var report = try TensorDiff.compare(
      try Checkpoint(format: a.format, tensors: aInB.tensors.filter { outside($0, usedB) }),
      try Checkpoint(format: b.format, tensors: b.tensors.filter { outside($0, usedB) }),
      tolerance: tolerance)
    report.note = note
    return report
  }

  /// B's options with A's activation, norm placement and eps where neither B's file, its naming
  /// nor a flag determines one (`missing`, ``ModelGraph/unresolvedSettings(_:from:settings:)``).
  /// Heads are never inherited.
  private static func inheritedSettings(_ given: ModelSettings, missing: [String], a: Model) -> (
    ModelSettings, [String]
  ) {
    var options = given
    var names: [String] = []
    if missing.contains("activation"), let value = a.settings.activation {
      options.activation = value
      names.append("activation \(value.rawValue)")
    }
    if missing.contains("norm_first"), let value = a.settings.normFirst {
      options.normFirst = value
      names.append(value ? "pre-norm" : "post-norm")
    }
    if missing.contains("eps"), let value = a.settings.eps {
      options.eps = value
      names.append("eps \(value)")
    }
    return (options, names)
  }

  private static func seconds(_ duration: Duration) -> Double {
    let (whole, fraction) = duration.components
    return Double(whole) + Double(fraction) * 1e-18
  }

  /// The first architecture of ``detectionOrder`` that A assembles as.
  static func detect(_ checkpoint: Checkpoint, options: ModelSettings) throws -> Architecture {
    var failures: [String] = []
    for candidate in detectionOrder {
      do {
        _ = try Model(checkpoint, architecture: candidate, options: options)
        return candidate
      } catch let error as CheckpointError {
        failures.append("\(candidate.rawValue): \(error.message)")
      }
    }
    throw CheckpointError(
      .invalidArgument,
      "A: no architecture recognised (pass --arch); " + failures.joined(separator: "; "))
  }

  /// Assembles `checkpoint` with `options`, except that a head count the file records (its
  /// metadata, or the shape of Keras kernels) wins over the option, so a file that says
  /// another count is compared as what it says. Activation, norm placement and eps options
  /// override the file, as in `ckpt run`.
  private static func assemble(
    _ checkpoint: Checkpoint, _ architecture: Architecture, _ options: ModelSettings
  ) throws -> Model {
    var options = options
    var model: Model
    do {
      model = try Model(checkpoint, architecture: architecture, options: options)
    } catch let error as CheckpointError where error.kind == .invalidArgument && options.heads != nil {
      // Keras kernels that record another head count than the option: the kernels win.
      options.heads = nil
      guard let retried = try? Model(checkpoint, architecture: architecture, options: options) else {
        throw error
      }
      model = retried
    }
    // A head count the file's config records wins over the option (Keras kernels already did).
    let naming = model.graph.naming
    guard options.heads != nil, naming != .keras2, naming != .keras3, let running = model.settings.heads,
      let recorded = ModelMetadata(checkpoint.metadata).heads, recorded != running
    else { return model }
    options.heads = nil
    return try Model(checkpoint, architecture: architecture, options: options)
  }

  /// Compares one top-level module and its sub-modules; returns the sub-modules' results, then the module's.
  // swift-format-ignore: FunctionParameterCount
  private static func compareUnit(
    _ record: ModuleRecord, children: [ModuleRecord], modelB: Model, modulesA: [String: ModuleDescriptor],
    modulesB: [String: ModuleDescriptor], tolerance: Tolerance
  ) -> [ModuleParity] {
    let descriptorA = modulesA[record.name]
    let kind = descriptorA?.kind ?? "module"
    guard modulesB[record.name] != nil else {
      return children.map {
        ModuleParity(
          name: $0.name, kind: modulesA[$0.name]?.kind ?? "module", statistics: nil, passed: false,
          reason: "only in A (missing in B)")
      } + [
        ModuleParity(
          name: record.name, kind: kind, statistics: nil, passed: false, reason: "only in A (missing in B)")
      ]
    }
    let traceB = ModuleTrace()
    var unit = compare(
      record, run: { try modelB.runModule(record, trace: traceB) }, modulesA, modulesB, tolerance)
    let recordedB = Dictionary(
      traceB.records.filter { $0.parent == record.name }.map { ($0.name, $0) },
      uniquingKeysWith: { first, _ in first })
    var parts = children.map { child -> ModuleParity in
      compare(child, run: { recordedB[child.name]?.outputs ?? [] }, modulesA, modulesB, tolerance)
    }
    if !unit.passed || parts.contains(where: { !$0.passed }) {
      // Measure each sub-module alone on A's inputs, so a failure does not spill into the next.
      parts = children.map { child in
        compare(child, run: { try modelB.runModule(child) }, modulesA, modulesB, tolerance)
      }
      if !unit.passed, let first = parts.first(where: { !$0.passed }) {
        unit.reason = "contains failing \(first.name)" + (unit.reason.map { "; " + $0 } ?? "")
      }
    }
    return parts + [unit]
  }

  /// Compares B's outputs of a module (from `run`) with A's record.
  private static func compare(
    _ record: ModuleRecord, run: () throws -> [Matrix], _ modulesA: [String: ModuleDescriptor],
    _ modulesB: [String: ModuleDescriptor], _ tolerance: Tolerance
  ) -> ModuleParity {
    let descriptorA = modulesA[record.name]
    let kind = descriptorA?.kind ?? "module"
    guard let descriptorB = modulesB[record.name] else {
      return ModuleParity(
        name: record.name, kind: kind, statistics: nil, passed: false, reason: "only in A (missing in B)")
    }
    var notes: [String] = []
    if let descriptorA, descriptorA.kind != descriptorB.kind {
      notes.append("kind differs: A \(descriptorA.kind), B \(descriptorB.kind)")
    }
    var shapeMismatch = false
    if let descriptorA, descriptorA.signature != descriptorB.signature {
      notes.append("shape mismatch: A \(descriptorA.signature); B \(descriptorB.signature)")
      shapeMismatch = true
    }
    if let descriptorA, descriptorA.settings != descriptorB.settings {
      notes.append("settings differ: A \(descriptorA.settings), B \(descriptorB.settings)")
    }
    let outputsB: [Matrix]
    do {
      outputsB = try run()
    } catch let error as CheckpointError {
      return ModuleParity(
        name: record.name, kind: kind, statistics: nil, passed: false,
        reason: (notes + ["B cannot run it: \(error.message)"]).joined(separator: "; "))
    } catch {
      return ModuleParity(
        name: record.name, kind: kind, statistics: nil, passed: false,
        reason: (notes + ["B cannot run it: \(error)"]).joined(separator: "; "))
    }
    let names = descriptorA?.outputNames ?? []
    var statistics = ErrorStatistics()
    var shapesAgree = outputsB.count == record.outputs.count
    if !shapesAgree {
      notes.append("B returns \(outputsB.count) outputs, A \(record.outputs.count)")
    }
    for (index, (a, b)) in zip(record.outputs, outputsB).enumerated() {
      guard a.shape == b.shape else {
        shapesAgree = false
        let name = index < names.count ? names[index] : "output \(index)"
        notes.append("\(name) shape: A \(Shape.describe(a.shape)), B \(Shape.describe(b.shape))")
        continue
      }
      statistics.add(a.values, b.values, tolerance: tolerance)
    }
    let passed = shapesAgree && !shapeMismatch && statistics.passed
    if !statistics.passed {
      notes.append("\(statistics.mismatches) of \(statistics.count) values outside the tolerance")
    }
    return ModuleParity(
      name: record.name, kind: kind, statistics: shapesAgree ? statistics : nil, passed: passed,
      reason: passed || notes.isEmpty ? nil : notes.joined(separator: "; "))
  }

  private static func compareWhole(
    _ outputsA: Checkpoint, modelB: Model, inputs: Checkpoint, tolerance: Tolerance
  )
    -> ModuleParity
  {
    let outputsB: Checkpoint
    do {
      outputsB = try modelB.run(inputs)
    } catch let error as CheckpointError {
      return ModuleParity(
        name: "model", kind: "model", statistics: nil, passed: false, reason: "B cannot run: \(error.message)"
      )
    } catch {
      return ModuleParity(
        name: "model", kind: "model", statistics: nil, passed: false, reason: "B cannot run: \(error)")
    }
    var total = ErrorStatistics()
    var parts: [ModuleParity] = []
    for tensorA in outputsA.tensors {
      guard let tensorB = outputsB[tensorA.name] else {
        parts.append(
          ModuleParity(
            name: tensorA.name, kind: "output", statistics: nil, passed: false, reason: "missing in B"))
        continue
      }
      guard tensorA.shape == tensorB.shape,
        let a = try? TensorValues.floats(tensorA), let b = try? TensorValues.floats(tensorB)
      else {
        parts.append(
          ModuleParity(
            name: tensorA.name, kind: "output", statistics: nil, passed: false,
            reason: "shape: A \(Shape.describe(tensorA.shape)), B \(Shape.describe(tensorB.shape))"))
        continue
      }
      let statistics = ErrorStatistics(a, b, tolerance: tolerance)
      total.add(a, b, tolerance: tolerance)
      parts.append(
        ModuleParity(
          name: tensorA.name, kind: "output", statistics: statistics, passed: statistics.passed,
          reason: statistics.passed
            ? nil : "\(statistics.mismatches) of \(statistics.count) values outside the tolerance"))
    }
    let failing = parts.filter { !$0.passed }.map(\.name)
    return ModuleParity(
      name: "model", kind: "model", statistics: total, passed: failing.isEmpty,
      reason: failing.isEmpty ? nil : "outputs differ: " + failing.joined(separator: ", "), outputs: parts)
  }
}

extension CheckpointError {
  /// Runs `body`, prefixing the message of a ``CheckpointError`` it throws with `side: `.
  static func prefixing<R>(_ side: String, _ body: () throws -> R) throws -> R {
    do {
      return try body()
    } catch let error as CheckpointError {
      throw error.prefixed(side)
    }
  }

  /// A copy whose message says which checkpoint of the comparison (`A` or `B`) it is about.
  func prefixed(_ side: String) -> CheckpointError {
    var copy = self
    copy.message = "\(side): " + message
    return copy
  }
}
