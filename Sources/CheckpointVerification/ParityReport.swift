import CheckpointCore
import Foundation

/// The result of ``ParityVerifier/verify(_:_:options:)``.
public struct ParityReport: Sendable {
  /// Seconds spent assembling both models (loading their weights).
  public var assembleSeconds: Double
  /// Seconds spent running and comparing (A traced, B's modules, B whole).
  public var runSeconds: Double
  /// Processor seconds (all threads) spent running and comparing.
  public var runCPUSeconds: Double
  /// The architecture compared.
  public var architecture: String
  /// The layouts the two checkpoints were recognised in.
  public var layoutA: String
  /// The layout of checkpoint B.
  public var layoutB: String
  /// The tolerance applied.
  public var tolerance: Tolerance
  /// The inputs used: name and shape.
  public var inputs: [(name: String, shape: [Int])]
  /// The seed of the generated inputs; `nil` when the inputs were given.
  public var seed: UInt64?
  /// Every module, in A's execution order (a layer's sub-modules before the layer), then
  /// modules present in B only.
  public var modules: [ModuleParity]
  /// The whole architecture on the same inputs.
  public var whole: ModuleParity
  /// The settings B took from A because B's file records none (see ``ParityOptions/inheritSettings``).
  public var settingsFromA: [String] = []
  /// Flags that did not apply (a setting the file's naming or shapes fix), a line each.
  public var notes: [String] = []
  /// The tensors no module reads (embeddings before the stack, a pooler, buffers), compared one
  /// by one; `nil` when the modules read every tensor.
  public var outside: TensorDiff.Report?

  /// Whether every module, the whole model and every tensor outside the modules passed: a pass
  /// speaks for every tensor of both files (training state aside).
  public var passed: Bool { whole.passed && modules.allSatisfy(\.passed) && (outside?.passed ?? true) }

  /// The first tensor outside the modules that does not match, if any.
  public var firstOutsideFailure: String? { outside?.tensors.first { !$0.matches }?.name }

  /// The first failing module in execution order, the first diverging one.
  public var firstFailure: String? { modules.first { !$0.passed }?.name }

  /// `{passed, first_failure, architecture, layout_a, layout_b, inputs, seed, modules, whole, tolerances}`.
  public var json: JSONValue {
    .object([
      ("passed", .bool(passed)),
      ("first_failure", firstFailure.map { .string($0) } ?? .null),
      ("architecture", .string(architecture)),
      ("layout_a", .string(layoutA)),
      ("layout_b", .string(layoutB)),
      (
        "inputs",
        .array(
          inputs.map {
            .object([("name", .string($0.name)), ("shape", .array($0.shape.map { .integer(Int64($0)) }))])
          })
      ),
      ("seed", seed.map { .unsignedInteger($0) } ?? .null),
      ("modules", .array(modules.map(\.json))),
      ("whole", whole.json),
      (
        "tolerances",
        .object([
          ("dtype", .string(tolerance.dtype)), ("rtol", .double(tolerance.rtol)),
          ("atol", .double(tolerance.atol)),
        ])
      ),
      ("settings_from_a", .array(settingsFromA.map { .string($0) })),
      ("outside", outside?.json ?? .null),
      ("notes", .array(notes.map { .string($0) })),
      ("assemble_seconds", .double(assembleSeconds)),
      ("run_seconds", .double(runSeconds)),
      ("run_cpu_seconds", .double(runCPUSeconds)),
    ])
  }

  /// A table (module, max abs, max rel, cosine, result) and the verdict naming the first diverging module.
  public var text: String {
    var lines: [String] = []
    let inputText = inputs.map { "\($0.name) \(Shape.describe($0.shape))" }.joined(separator: ", ")
    lines.append(
      "\(architecture): A \(layoutA), B \(layoutB); "
        + (inputs.isEmpty ? "not run" : "inputs \(inputText)" + (seed.map { " (seed \($0))" } ?? " (given)")))
    lines.append(
      "tolerance \(tolerance.dtype): |b - a| <= \(ParityReport.format(tolerance.atol)) + "
        + "\(ParityReport.format(tolerance.rtol)) * |a|")
    for note in notes { lines.append("note: " + note) }
    if !settingsFromA.isEmpty {
      lines.append("B takes from A (its file does not record them): " + settingsFromA.joined(separator: ", "))
    }
    let width = max(24, (modules.map(\.name.count) + [whole.name.count]).max() ?? 0) + 2
    func pad(_ text: String, _ count: Int) -> String {
      text.count >= count ? text + " " : text + String(repeating: " ", count: count - text.count)
    }
    func row(_ module: ModuleParity) -> String {
      let stats = module.statistics
      var line =
        pad(module.name, width) + pad(stats.map { ParityReport.format($0.maxAbsError) } ?? "-", 11)
        + pad(stats.map { ParityReport.format($0.maxRelError) } ?? "-", 11)
        + pad(stats.map { String(format: "%.6f", $0.cosine) } ?? "-", 10) + (module.passed ? "pass" : "FAIL")
      if let reason = module.reason, !module.passed { line += "  " + reason }
      return line
    }
    lines.append(
      pad("module", width) + pad("max abs", 11) + pad("max rel", 11) + pad("cosine", 10) + "result")
    lines += modules.map(row)
    lines.append(row(whole))
    if let outside {
      let failing = outside.tensors.filter { !$0.matches }
      lines.append(
        "tensors outside the modules: \(outside.tensors.count) compared one by one, "
          + (failing.isEmpty ? "all match" : "\(failing.count) do not"))
      if !failing.isEmpty { lines.append(outside.text) }
    }
    let others =
      outside.map { ", the whole model and \($0.tensors.count) other tensors match" }
      ?? " and the whole model match"
    if passed {
      lines.append("PASS: \(modules.count) modules" + others)
    } else if modules.allSatisfy(\.passed), whole.passed, let tensor = firstOutsideFailure {
      lines.append("FAIL: tensor \(tensor), which no module reads, differs")
    } else if let first = firstFailure {
      let failing = modules.filter { !$0.passed }.count
      lines.append("FAIL: first diverging module \(first) (\(failing) of \(modules.count) modules fail)")
    } else {
      lines.append("FAIL: every module matches but the whole model differs")
    }
    return lines.joined(separator: "\n")
  }

  static func format(_ value: Double) -> String {
    if value == 0 { return "0" }
    if !value.isFinite { return value.isNaN ? "nan" : "inf" }
    return String(format: "%.2e", value)
  }
}
